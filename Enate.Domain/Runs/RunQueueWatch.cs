using Enate.Domain.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Enate.Domain.Runs;

/// Notices when no Workers are taking work: every `Enate:Health:QueueCheckEvery` (5 s) it reads how long the oldest
/// run still `requested` has waited, across tenants. That age is the gauge `enate.runs.queue.age` (seconds) and the
/// health check `run-queue`, degraded once it passes `Enate:Health:QueueStalledAfter` (2 minutes). The API and the
/// Workers both watch: when every Workers process is gone the API still reports it.
public sealed class RunQueueWatch(Platform.TenantDatabases databases, TimeProvider clock, IConfiguration configuration, ILogger<RunQueueWatch> logger,
    Wolverine.Runtime.IWolverineRuntime runtime)
    : BackgroundService, IHealthCheck
{
    /// Per tenant, the oldest requested run that has waited past the threshold.
    public static readonly string StalledSql =
        $"select distinct on (tenant_id) tenant_id, id, extract(epoch from now() - mt_last_modified) from {EnateStore.Schema}.mt_doc_runsummary " +
        "where data ->> 'status' = 'requested' and mt_last_modified < now() - @after order by tenant_id, mt_last_modified";

    /// The oldest requested run, measured by the database's clock when the run's summary was written.
    public static readonly string Sql =
        $"select extract(epoch from now() - min(mt_last_modified)) from {EnateStore.Schema}.mt_doc_runsummary where data ->> 'status' = 'requested'";

    private readonly TimeSpan _every = configuration.GetValue("Enate:Health:QueueCheckEvery", TimeSpan.FromSeconds(5));
    public TimeSpan StalledAfter { get; } = configuration.GetValue("Enate:Health:QueueStalledAfter", TimeSpan.FromMinutes(2));

    /// The oldest requested run's wait at the last measure (zero: none waiting); null before the first one succeeded.
    public TimeSpan? Age { get; private set; }
    public DateTimeOffset? MeasuredAt { get; private set; }
    public bool Stalled => Age > StalledAfter;

    /// Reads the age now.
    public async Task<TimeSpan> MeasureAsync(CancellationToken ct)
    {
        var seconds = 0d;
        foreach (var database in databases.All)
        {
            await using var command = database.Source.CreateCommand(Sql);
            if (await command.ExecuteScalarAsync(ct) is decimal d) seconds = Math.Max(seconds, (double)d);
        }
        var wasStalled = Stalled;
        Age = TimeSpan.FromSeconds(Math.Max(0, seconds));
        MeasuredAt = clock.GetUtcNow();
        if (Stalled && !wasStalled)
        {
            logger.LogError("Runs are not being taken: the oldest requested run has waited {Age}, over {Threshold}. Are the Workers running?",
                Age, StalledAfter);
            await NotifyStalledAsync(ct);
        }
        else if (wasStalled && !Stalled) logger.LogWarning("Runs are being taken again: the oldest requested run has waited {Age}", Age);
        return Age.Value;
    }

    /// Tells each tenant whose runs wait (`queue.stalled`). The id names the tenant's oldest waiting run, so the API's
    /// and the Workers' watches, noticing the same stall, make one notification. Delivering it takes a Workers process:
    /// when none runs, it waits in the queue, and the health check and the gauge are what report the stall.
    private async Task NotifyStalledAsync(CancellationToken ct)
    {
        var stalled = new List<(string Tenant, Guid RunId, double Seconds)>();
        foreach (var database in databases.All)
        {
            await using var command = database.Source.CreateCommand(StalledSql);
            command.Parameters.AddWithValue("after", StalledAfter);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) stalled.Add((reader.GetString(0), reader.GetGuid(1), (double)reader.GetDecimal(2)));
        }
        var bus = new Wolverine.Runtime.MessageContext(runtime);
        foreach (var (tenant, runId, seconds) in stalled)
            await bus.PublishAsync(Notifications.Notices.OfStall(tenant, runId, seconds, StalledAfter, clock.GetUtcNow()),
                new Wolverine.DeliveryOptions { TenantId = tenant });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Telemetry.Meter.CreateObservableGauge("enate.runs.queue.age", () => Age?.TotalSeconds ?? 0, "s",
            "How long the oldest requested run has waited to be taken by the Workers.");
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await MeasureAsync(stoppingToken);
                await Task.Delay(_every, clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (DatabaseErrors.IsDatabaseOrTimeout(ex))
            {
                // The database is away or not set up yet: the age stays as last read, and the next round tries again.
                logger.LogDebug("The run queue watch skipped a round: {Reason}", ex.Message);
                await Task.Delay(_every, clock, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The run queue watch failed a round; the next one tries again");
                await Task.Delay(_every, clock, stoppingToken);
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["oldestRequestedSeconds"] = Age?.TotalSeconds ?? -1,
            ["stalledAfterSeconds"] = StalledAfter.TotalSeconds,
        };
        return Task.FromResult(Age is null
            ? HealthCheckResult.Healthy("The run queue has not been read yet.", data)
            : Stalled
                ? HealthCheckResult.Degraded($"Runs are not being taken: the oldest requested run has waited {Age.Value.TotalSeconds:0} s " +
                                             $"(over {StalledAfter.TotalSeconds:0} s). Check that the Workers are running.", data: data)
                : HealthCheckResult.Healthy($"The oldest requested run has waited {Age.Value.TotalSeconds:0.0} s.", data));
    }
}

public static class RunQueueWatchRegistration
{
    /// The watch as a hosted service, its health check `run-queue` (not a liveness check: a process is alive whether or
    /// not the Workers are) and its gauge.
    public static IServiceCollection AddRunQueueWatch(this IServiceCollection services)
    {
        services.AddSingleton<RunQueueWatch>();
        services.AddHostedService(s => s.GetRequiredService<RunQueueWatch>());
        services.AddHealthChecks().AddCheck<RunQueueWatch>("run-queue", HealthStatus.Degraded, ["ready"]);
        return services;
    }
}
