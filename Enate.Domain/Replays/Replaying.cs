using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Domain.Replays;

/// Starts a replay of a recorded run, from its recorded input. The API (one run) and the Workers (bulk)
/// share it, so a replay looks the same whoever asked. Nothing is saved here: the caller's transaction
/// holds the new stream, the RunReplayed on the old one and the ExecuteRun message together.
public static class Replaying
{
    public const string Trigger = "replay";

    public static async Task<Guid> StartAsync(IDocumentSession session, IMessageBus bus, RunSummary old, RecipeVersion target,
        string reason, string requestedBy, DateTimeOffset now, Guid? bulkReplayId = null)
    {
        var newRunId = Guid.CreateVersion7(now);
        // The recorded input is in the old run's first event or its inbound record (the summary keeps no copy); the
        // replay keeps its own copy, since no inbound request of its own holds it.
        var requested = (await session.Events.FetchStreamAsync(old.Id, 1)).Select(e => e.Data).OfType<RunRequested>().Single();
        var input = await RunInputs.OfAsync(session, requested, CancellationToken.None);
        session.Events.StartStream<Run>(newRunId, NewRuns.Requested(newRunId, old.RecipeKey, target.Version, target.Definition, target.Sha256,
            Trigger, input, requestedBy, now, replayOf: old.Id, workItem: old.WorkItem));
        session.Events.Append(old.Id, new RunReplayed(old.Id, newRunId, target.Version, reason, requestedBy, now, bulkReplayId));
        await bus.PublishAsync(new ExecuteRun(newRunId, session.TenantId), new DeliveryOptions { TenantId = session.TenantId });
        return newRunId;
    }
}
