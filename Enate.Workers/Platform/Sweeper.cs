using Npgsql;

namespace Enate.Workers.Platform;

/// Background work done every so often against the database. A round the database cannot serve (it is away, or its
/// tables do not exist yet on a fresh database) is skipped, and the next one tries again.
public abstract class Sweeper(TimeSpan every, ILogger logger) : BackgroundService
{
    /// One round of the work.
    protected abstract Task RoundAsync(CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, stoppingToken);
                await RoundAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                logger.LogDebug("{Sweeper} skipped a round: {Reason}", GetType().Name, ex.Message);
            }
        }
    }
}
