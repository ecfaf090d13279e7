using System.Text;
using Enate.Domain.Engine;
using Enate.Domain.Inbound;
using Enate.Domain.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Marten;
using Npgsql;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;

namespace Enate.Workers.Schedules;

/// Fires schedule triggers. Every replica runs one, and one at a time takes a round (an advisory lock); each occurrence
/// starts exactly one run however many replicas find it due, because its inbound record carries a delivery key unique
/// per tenant: a second commit fails and starts nothing. A firing is an inbound request like any trigger's (in the audit chain, re-runnable), committed with its run,
/// the schedule's mark and the message that executes the run. A round looks every `Enate:Workers:ScheduleCheckEvery`
/// (1 s) at most, and sooner when an occurrence falls due before that.
public sealed class Scheduler(IDocumentStore store, NpgsqlDataSource database, OutboxedSessionFactory outbox, IWolverineRuntime runtime,
    TimeProvider clock, IConfiguration configuration, ILogger<Scheduler> logger) : BackgroundService
{
    public const string Trigger = TriggerTypes.Schedule;
    private const long LockKey = 0x456e617465536368; // "EnateSch"

    private readonly TimeSpan _every = configuration.GetValue("Enate:Workers:ScheduleCheckEvery", TimeSpan.FromSeconds(1));
    private readonly TimeSpan _grace = configuration.GetValue("Enate:Workers:ScheduleGrace", Occurrences.DefaultGrace);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var wait = _every;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, clock, stoppingToken);
                var now = clock.GetUtcNow();
                var next = await FireDueAsync(now, stoppingToken);
                // Wake a little after the next occurrence, so the clock has passed it when the round reads it.
                var until = next is { } at ? at - clock.GetUtcNow() + TimeSpan.FromMilliseconds(5) : _every;
                wait = until < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : until > _every ? _every : until;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (DatabaseErrors.IsDatabaseOrTimeout(ex))
            {
                // The database is away, or its tables are not there yet: the next round tries again.
                logger.LogDebug("The scheduler skipped a round: {Reason}", ex.Message);
                wait = _every;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "A scheduler round failed; the next one tries again");
                wait = _every;
            }
        }
    }

    /// One round at `now`: fires what is due for every active schedule of every enabled tenant, and answers when the
    /// next occurrence of any of them falls due (null when none does, or another replica was in a round).
    public async Task<DateTimeOffset?> FireDueAsync(DateTimeOffset now, CancellationToken ct) => (await TryRoundAsync(now, ct)).Next;

    /// The same round, unless another replica is in one: whether this one took it, and the next occurrence.
    public async Task<(bool Taken, DateTimeOffset? Next)> TryRoundAsync(DateTimeOffset now, CancellationToken ct)
    {
        // One replica fires at a time, so replicas do not race to commit the same occurrence (the loser's failed
        // transaction would leave tombstones in the event log). The lock is the courtesy; the delivery key is the guarantee.
        await using var connection = await database.OpenConnectionAsync(ct);
        await using (var take = new NpgsqlCommand($"select pg_try_advisory_lock({LockKey})", connection))
            if (!(bool)(await take.ExecuteScalarAsync(ct))!) return (false, null);
        try
        {
            return (true, await RoundAsync(now, ct));
        }
        finally
        {
            await using var release = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", connection);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private async Task<DateTimeOffset?> RoundAsync(DateTimeOffset now, CancellationToken ct)
    {
        // Every tenant's schedules, in whichever database each tenant is.
        var recipes = new List<Recipe>();
        foreach (var database in await store.Storage.AllDatabases())
        {
            await using var query = store.QuerySession(Marten.Services.SessionOptions.ForDatabase(database));
            recipes.AddRange(await query.Query<Recipe>()
                .Where(r => r.AnyTenant() && r.Active && r.TriggerType == TriggerTypes.Schedule)
                .ToListAsync(ct));
        }
        if (recipes.Count == 0) return null;
        HashSet<string> disabled;
        await using (var query = store.QuerySession())
            disabled = (await query.Query<Tenant>().Where(t => t.DisabledAt != null).Select(t => t.Id).ToListAsync(ct)).ToHashSet();

        DateTimeOffset? next = null;
        foreach (var tenant in recipes.Where(r => r.Tenant is not null && !disabled.Contains(r.Tenant)).GroupBy(r => r.Tenant!))
        {
            IReadOnlyDictionary<string, ScheduleMark> marks;
            await using (var query = store.QuerySession(tenant.Key))
                marks = (await query.LoadManyAsync<ScheduleMark>(ct, tenant.Select(r => r.Id))).ToDictionary(m => m.Id);
            foreach (var recipe in tenant)
            {
                if (recipe.Schedule is not { } schedule) continue;
                var mark = marks.GetValueOrDefault(recipe.Id);
                var since = Later(mark?.Occurrence, recipe.ScheduledSince ?? recipe.UpdatedAt);
                if (Occurrences.Due(schedule, since, now, _grace) is { } due)
                {
                    try
                    {
                        await FireAsync(tenant.Key, recipe, schedule, due, now, ct);
                        since = due.Occurrence;
                    }
                    catch (Exception e) when (e is not OperationCanceledException && !DatabaseErrors.IsDatabaseOrTimeout(e))
                    {
                        // One recipe's defect (a version gone, say) does not hold up the others; it is tried again next round.
                        logger.LogError(e, "Schedule of recipe {Recipe} (tenant {Tenant}) could not fire {Occurrence}", recipe.Id, tenant.Key, due.Occurrence);
                    }
                }
                // A cron or zone this machine cannot read (its time zone data differs from the API's) stops that schedule only.
                if (Occurrences.Parse(schedule.Cron) is not { } cron || Occurrences.Zone(schedule.TimeZone) is not { } zone)
                {
                    logger.LogError("Schedule of recipe {Recipe} (tenant {Tenant}) cannot be read here: cron '{Cron}', time zone '{Zone}'",
                        recipe.Id, tenant.Key, schedule.Cron, schedule.TimeZone);
                    continue;
                }
                if (cron.GetNextOccurrence(Later(since, now), zone) is { } coming && (next is null || coming < next)) next = coming;
            }
        }
        return next;
    }

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;

    /// Commits the occurrence: its inbound record, its run and the message that executes it, and the mark moved past
    /// it; an occurrence passed over as missed moves the mark alone.
    private async Task FireAsync(string tenant, Recipe recipe, RecipeSchedule schedule, DueOccurrence due, DateTimeOffset now,
        CancellationToken ct)
    {
        var context = new MessageContext(runtime);
        await using var session = outbox.OpenSession(context, tenant);
        var mark = new ScheduleMark { Id = recipe.Id, Occurrence = due.Occurrence };
        if (!due.Fire)
        {
            session.Store(mark);
            await session.SaveChangesAsync(ct);
            Telemetry.ScheduleMissed.Add(due.Missed);
            logger.LogWarning("Schedule of recipe {Recipe} (tenant {Tenant}) missed {Missed} occurrence(s) up to {Occurrence}; its policy skips them",
                recipe.Id, tenant, due.Missed, due.Occurrence);
            return;
        }

        var version = recipe.LatestVersion;
        var definition = await RecipeVersions.DefinitionAsync(session, recipe, version, ct);
        var input = Occurrences.Input(recipe.Id, version, schedule, due, now);
        var inboundId = Guid.CreateVersion7(now);
        var runId = Guid.CreateVersion7(now);
        var text = input.GetRawText();
        var recorded = new InboundRequestRecorded(inboundId, Trigger, recipe.Id, "SCHEDULE", $"{schedule.Cron} ({schedule.TimeZone})", [],
            Recording.Body(Encoding.UTF8.GetBytes(text), "application/json"), Verdicts.Accepted, 202, null, [runId], now,
            Occurrences.DeliveryKeyOf(recipe.Id, due.Occurrence));
        session.Events.StartStream<InboundRequest>(inboundId, recorded);
        session.Events.StartStream<Run>(runId, NewRuns.Requested(runId, recipe.Id, version, definition, RecipeVersions.ShaOf(recipe, version),
            Trigger, input, "schedule", now, inboundId: inboundId, inputInInbound: true));
        mark.RunId = runId;
        session.Store(mark);
        await context.PublishAsync(new ExecuteRun(runId, tenant, RecipeVersion.IdFor(recipe.Id, version), inboundId), new DeliveryOptions { TenantId = tenant });
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (Deliveries.IsRepeat(e))
        {
            // Another replica fired this occurrence first: its run is the one.
            return;
        }
        Telemetry.ScheduleFired.Add(1);
        Telemetry.ScheduleDelay.Record((now - due.Occurrence).TotalMilliseconds);
        if (due.Missed > 0)
            logger.LogWarning("Schedule of recipe {Recipe} (tenant {Tenant}) ran {Occurrence} once for {Missed} earlier occurrence(s) missed",
                recipe.Id, tenant, due.Occurrence, due.Missed);
    }
}
