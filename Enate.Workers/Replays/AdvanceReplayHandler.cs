using System.Diagnostics;
using Enate.Domain;
using Enate.Domain.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using Wolverine.Runtime;

namespace Enate.Workers.Replays;

/// Drives a bulk replay one step at a time: wait until the job has room among its replays in flight (half its limit
/// free, or every replay finished once all are started), start as many as the room allows, save the cursor with them
/// in one transaction, and hand over to the next step at once. Every step is a durable message in a queue of its own,
/// so a restart resumes from the last committed step, and a waiting step holds no slot a run needs; two deliveries of
/// one step collide on the job's version and the loser retries against the fresh state.
public static class AdvanceReplayHandler
{
    /// How often a waiting step looks at its job's replays.
    public static readonly TimeSpan Look = TimeSpan.FromMilliseconds(50);
    /// How long one step waits for room before it hands over to the next.
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);
    /// When a whole wait saw none of the job's replays finish (they wait on a slow partner, say), the next step comes
    /// this much later: a stalled job costs a look every few seconds.
    public static readonly TimeSpan Idle = TimeSpan.FromSeconds(5);

    private static readonly Uri ReplayQueue = QueuedMessage.Queue(EnateStore.ReplayQueue);

    public static async Task Handle(AdvanceReplay command, IDocumentSession session, IMessageContext bus, IWolverineRuntime runtime,
        TimeProvider clock, CancellationToken ct)
    {
        var job = await session.LoadAsync<BulkReplay>(command.ReplayId, ct);
        if (job is null || job.Status != BulkReplayStatus.Running) return;

        var (inFlight, cursor) = (job.InFlight.Count, job.Cursor);
        await WaitForRoomAsync(session, job, clock, ct);
        var room = job.Concurrency - job.InFlight.Count;
        if (room > 0 && job.Cursor < job.Total) await StartAsync(job, room, session, runtime, clock.GetUtcNow(), ct);

        if (job.Cursor == job.Total && job.InFlight.Count == 0)
        {
            job.Status = BulkReplayStatus.Completed;
            job.FinishedAt = clock.GetUtcNow();
            session.Store(job);
            await bus.PublishAsync(Enate.Domain.Notifications.Notices.OfRerun(job, command.TenantId), new DeliveryOptions { TenantId = command.TenantId });
            return;
        }
        var moved = job.Cursor != cursor || job.InFlight.Count != inFlight;
        if (moved) session.Store(job);
        await bus.PublishAsync(new AdvanceReplay(job.Id, command.TenantId),
            new DeliveryOptions { TenantId = command.TenantId, ScheduleDelay = moved ? null : Idle });
    }

    /// Moves the replays that finished out of the job's in-flight list, counting their outcomes, until there is room
    /// for a batch or the step's patience is spent.
    private static async Task WaitForRoomAsync(IQuerySession session, BulkReplay job, TimeProvider clock, CancellationToken ct)
    {
        var enough = job.Cursor < job.Total ? job.Concurrency / 2 : 0;
        var deadline = clock.GetUtcNow() + Patience;
        while (job.InFlight.Count > 0)
        {
            var statuses = await BulkReplay.StatusesAsync(session, job.InFlight, ct);
            // A replay without a summary has nothing left to wait for.
            job.InFlight.RemoveAll(id =>
            {
                if (!statuses.TryGetValue(id, out var status)) return true;
                if (!RunStatus.IsFinished(status)) return false;
                job.Outcomes.Count(status);
                return true;
            });
            if (job.InFlight.Count <= enough || clock.GetUtcNow() >= deadline) return;
            await Task.Delay(Look, clock, ct);
        }
    }

    /// Starts the next replays of the job, reading what they need in a few round trips for the whole batch. Their
    /// messages go straight into the replay queue's table in the step's transaction, and one notification at its commit
    /// wakes the listener for all of them; through the outbox, each message was moved into the queue on its own after
    /// the commit, and each move woke the listener for that one message.
    private static async Task StartAsync(BulkReplay job, int room, IDocumentSession session, IWolverineRuntime runtime,
        DateTimeOffset now, CancellationToken ct)
    {
        var selection = await session.LoadAsync<ReplaySelection>(job.Id, ct)
                        ?? throw new InvalidOperationException($"Bulk replay {job.Id} has no selection of runs.");
        var batch = selection.RunIds.Skip(job.Cursor).Take(room).ToArray();
        job.Cursor += batch.Length;
        var olds = (await session.LoadManyAsync<RunSummary>(ct, batch)).ToDictionary(r => r.Id);
        var targets = new ReplayTargets(session, ReplayVersion.Parse(job.RecipeVersion)!);
        var chosen = new List<(RunSummary Old, RecipeVersion Target)>();
        foreach (var oldId in batch)
        {
            if (!olds.TryGetValue(oldId, out var old))
            {
                job.NotStarted.Add(new ReplayNotStarted(oldId, "The run's summary is gone."));
                continue;
            }
            var (target, _, reason) = await targets.ResolveAsync(old, ct);
            if (target is null) job.NotStarted.Add(new ReplayNotStarted(oldId, reason));
            else chosen.Add((old, target));
        }

        var inputs = await Replaying.InputsAsync(session, chosen.Select(c => c.Old.Id).ToList(), ct);
        var started = job.StartedCount;
        foreach (var (old, target) in chosen)
        {
            if (!inputs.TryGetValue(old.Id, out var input))
            {
                job.NotStarted.Add(new ReplayNotStarted(old.Id, "The run's recorded request is gone."));
                continue;
            }
            var newRunId = Replaying.Start(session, old, target, input, job.Reason, job.RequestedBy, now, job.Id);
            foreach (var message in QueuedMessage.For(runtime, ReplayQueue, new ReplayRun(newRunId, session.TenantId, target.Id), session.TenantId, Activity.Current))
                message.QueueIn(session, EnateStore.ReplayQueueTable);
            job.StartedCount++;
            job.InFlight.Add(newRunId);
        }
        if (job.StartedCount > started) session.QueueSqlCommand(EnateStore.Notify(EnateStore.ReplayQueueTable));
    }

    /// Records that a step of the job failed through every retry (its message went to the dead letters): the job ends
    /// failed and starts nothing more, and says so, instead of staying "running" with no step to move it on.
    public static async Task FailAsync(IWolverineRuntime runtime, string tenant, Guid jobId, Exception exception)
    {
        var store = runtime.Services.GetRequiredService<IDocumentStore>();
        var clock = runtime.Services.GetRequiredService<TimeProvider>();
        // Told by its kind, as a run's failure outside its steps is (RunFailures.ReasonFor): an exception's text can name
        // the database's host or quote the platform's SQL. The log has the whole exception.
        var reason = $"A step of the job failed through every retry ({exception.GetType().Name}); its operators have the details.";
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession(tenant);
            var job = await session.LoadAsync<BulkReplay>(jobId);
            if (job is not { Status: BulkReplayStatus.Running }) return;
            (job.Status, job.Failure, job.FinishedAt) = (BulkReplayStatus.Failed, reason, clock.GetUtcNow());
            session.Store(job);
            try
            {
                await session.SaveChangesAsync();
                runtime.Services.GetRequiredService<ILogger<BulkReplay>>().LogError(exception, "Bulk replay {Replay} of tenant {Tenant} failed", jobId, tenant);
                return;
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 5)
            {
                // Cancelled or saved meanwhile: read it again.
            }
        }
    }
}
