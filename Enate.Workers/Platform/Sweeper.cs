using System.Runtime.ExceptionServices;
using Enate.Domain.Platform;

namespace Enate.Workers.Platform;

/// Background work done every so often against the database. A round the database cannot serve (it is away, or its
/// tables do not exist yet on a fresh database) is skipped, and the next one tries again.
public abstract class Sweeper(TimeSpan every, ILogger logger) : BackgroundService
{
    /// One round of the work.
    protected abstract Task RoundAsync(CancellationToken ct);

    /// Does a round's work on every database in turn. One that cannot serve (away, or its tables not there yet) does not
    /// hold up the others: the round goes on, and ends with that database's error, so it is logged and tried again.
    public static async Task OnEachAsync(IEnumerable<TenantDatabases.Database> databases, Func<TenantDatabases.Database, Task> work)
    {
        Exception? away = null;
        foreach (var database in databases)
        {
            try
            {
                await work(database);
            }
            catch (Exception e) when (DatabaseErrors.IsDatabaseOrTimeout(e))
            {
                away ??= e;
            }
        }
        if (away is not null) ExceptionDispatchInfo.Capture(away).Throw();
    }

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
            catch (Exception ex) when (DatabaseErrors.IsDatabaseOrTimeout(ex))
            {
                logger.LogDebug("{Sweeper} skipped a round: {Reason}", GetType().Name, ex.Message);
            }
        }
    }
}
