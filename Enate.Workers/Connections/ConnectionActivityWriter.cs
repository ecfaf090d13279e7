using Enate.Domain.Platform;
using Enate.Domain.Connections;
using Npgsql;

namespace Enate.Workers.Connections;

/// Writes what calls noted of their connections (last success, last failure) every two seconds, and once more on stop.
public sealed class ConnectionActivityWriter(ConnectionActivity activity, TenantDatabases databases, ILogger<ConnectionActivityWriter> logger)
    : Platform.Sweeper(TimeSpan.FromSeconds(2), logger)
{
    private bool _ready;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        activity.StartCollecting();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task RoundAsync(CancellationToken ct)
    {
        if (!_ready)
        {
            await OnEachAsync(databases.All, database => ConnectionActivity.EnsureTableAsync(database.Source, ct));
            _ready = true;
        }
        await activity.WriteAsync(databases, ct);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            if (_ready) await activity.WriteAsync(databases, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
        {
            logger.LogDebug("The last connection activity was not written: {Reason}", e.Message);
        }
    }
}
