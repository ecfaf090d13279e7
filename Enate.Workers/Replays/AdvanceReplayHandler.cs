using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Workers.Replays;

/// Drives a bulk replay one step at a time: forget the replays that finished, start as many as the
/// job's in-flight limit allows, save the cursor with them in one transaction, and look again shortly.
/// Every step is a durable message, so a restart resumes from the last committed step; two deliveries
/// of one step collide on the job's version and the loser retries against the fresh state.
public static class AdvanceReplayHandler
{
    /// How long to wait before looking again while replays are in flight.
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static async Task Handle(AdvanceReplay command, IDocumentSession session, IMessageContext bus, TimeProvider clock,
        CancellationToken ct)
    {
        var job = await session.LoadAsync<BulkReplay>(command.ReplayId, ct);
        if (job is null || job.Status != BulkReplayStatus.Running) return;

        if (job.InFlight.Count > 0)
        {
            var inFlight = job.InFlight.ToArray();
            var unfinished = await session.Query<RunSummary>()
                .Where(r => r.Id.IsOneOf(inFlight) && !r.Status.IsOneOf(FinishedStatuses))
                .Select(r => r.Id).ToListAsync(ct);
            job.InFlight = unfinished.ToList();
        }

        var room = job.Concurrency - job.InFlight.Count;
        if (room > 0 && job.Cursor < job.RunIds.Count)
        {
            await StartAsync(job, room, session, bus, clock.GetUtcNow(), ct);
        }

        var now = clock.GetUtcNow();
        if (job.Cursor == job.RunIds.Count && job.InFlight.Count == 0)
        {
            job.Status = BulkReplayStatus.Completed;
            job.FinishedAt = now;
        }
        else
        {
            await bus.PublishAsync(new AdvanceReplay(job.Id, command.TenantId),
                new DeliveryOptions { TenantId = command.TenantId, ScheduleDelay = PollInterval });
        }
        session.Store(job);
    }

    private static readonly string[] FinishedStatuses = RunStatus.All.Where(RunStatus.IsFinished).ToArray();

    private static async Task StartAsync(BulkReplay job, int room, IDocumentSession session, IMessageBus bus, DateTimeOffset now,
        CancellationToken ct)
    {
        var batch = job.RunIds.Skip(job.Cursor).Take(room).ToArray();
        var olds = (await session.LoadManyAsync<RunSummary>(ct, batch)).ToDictionary(r => r.Id);
        var targets = new ReplayTargets(session, ReplayVersion.Parse(job.RecipeVersion)!);
        foreach (var oldId in batch)
        {
            job.Cursor++;
            if (!olds.TryGetValue(oldId, out var old))
            {
                job.NotStarted.Add(new ReplayNotStarted(oldId, "The run's summary is gone."));
                continue;
            }
            var (target, _, reason) = await targets.ResolveAsync(old, ct);
            if (target is null)
            {
                job.NotStarted.Add(new ReplayNotStarted(oldId, reason));
                continue;
            }

            var newRunId = await Replaying.StartAsync(session, bus, old, target, job.Reason, job.RequestedBy, now, job.Id);
            job.Started.Add(new ReplayedRun(oldId, newRunId));
            job.InFlight.Add(newRunId);
        }
    }
}
