using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enate.AppHost.Watchdog;

/// Starts the API and Workers processes again when they die (killed, crashed), as systemd's `Restart=always` or a
/// Kubernetes Deployment would in production: every replica that exits with a code other than 0 is started again,
/// after 1 s, then 2, 4 … up to 30 s when it keeps dying. A process that ends with 0 (shut down in order) stays down.
public sealed class Watchdog(ResourceNotificationService notifications, ResourceCommandService commands, ILogger<Watchdog> logger)
    : BackgroundService
{
    private static readonly HashSet<string> Watched = ["api", "workers"];
    private readonly Dictionary<string, (int Restarts, DateTimeOffset At)> _restarts = [];
    private readonly HashSet<string> _pending = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken))
            {
                if (!Watched.Contains(update.Resource.Name)) continue;
                var state = update.Snapshot.State?.Text;
                if (state == KnownResourceStates.Running) _pending.Remove(update.ResourceId);
                if (state != KnownResourceStates.Exited && state != KnownResourceStates.Finished || update.Snapshot.ExitCode is null or 0 || !_pending.Add(update.ResourceId)) continue;
                _ = RestartAsync(update.ResourceId, update.Snapshot.ExitCode.Value, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RestartAsync(string resourceId, int exitCode, CancellationToken ct)
    {
        var (restarts, at) = _restarts.GetValueOrDefault(resourceId);
        // A process that ran a minute since its last restart starts the back-off again.
        if (DateTimeOffset.UtcNow - at > TimeSpan.FromMinutes(1)) restarts = 0;
        var delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, restarts)));
        _restarts[resourceId] = (restarts + 1, DateTimeOffset.UtcNow);
        logger.LogWarning("{Resource} exited with code {ExitCode}: starting it again in {Delay}", resourceId, exitCode, delay);
        try
        {
            await Task.Delay(delay, ct);
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, ct);
            if (!result.Success) logger.LogError("{Resource} could not be started again: {Error}", resourceId, result.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
