using System.Text.Json;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Domain.Replays;

/// Starts a replay of a recorded run, from its recorded input. The API (one run) and the Workers (bulk) share it, so a
/// replay looks the same whoever asked. Nothing is saved here: the caller's transaction holds the new stream, the
/// RunReplayed on the old one and the message that executes the new run together.
public static class Replaying
{
    public const string Trigger = "replay";

    /// One replay, asked for by a person: it starts from the run queue, as a live run does.
    public static async Task<Guid> StartAsync(IDocumentSession session, IMessageBus bus, RunSummary old, RecipeVersion target,
        string reason, string requestedBy, DateTimeOffset now, CancellationToken ct)
    {
        var input = (await InputsAsync(session, [old.Id], ct))[old.Id];
        var newRunId = Start(session, old, target, input, reason, requestedBy, now, bulkReplayId: null);
        await bus.PublishAsync(new ExecuteRun(newRunId, session.TenantId, target.Id), new DeliveryOptions { TenantId = session.TenantId });
        return newRunId;
    }

    /// The recorded input of each of these runs, by run id, in two round trips however many there are: the runs' first
    /// events, then the inbound records of those that keep no copy of their own (the summary keeps none).
    public static async Task<IReadOnlyDictionary<Guid, JsonElement>> InputsAsync(IQuerySession session, IReadOnlyCollection<Guid> runIds,
        CancellationToken ct)
    {
        var requested = (await StreamReads.FirstEventsAsync(session, runIds, ct)).Select(e => e.Data).OfType<RunRequested>().ToList();
        return await RunInputs.OfAsync(session, requested, ct);
    }

    /// Starts the new run's stream and links the old run to it; the caller sends the message that executes it. The
    /// replay keeps its own copy of the input, since no inbound request of its own holds it.
    public static Guid Start(IDocumentSession session, RunSummary old, RecipeVersion target, JsonElement input, string reason,
        string requestedBy, DateTimeOffset now, Guid? bulkReplayId)
    {
        var newRunId = Guid.CreateVersion7(now);
        session.Events.StartStream<Run>(newRunId, NewRuns.Requested(newRunId, old.RecipeKey, target.Version, target.Definition, target.Sha256,
            Trigger, input, requestedBy, now, replayOf: old.Id, workItem: old.WorkItem));
        session.Events.Append(old.Id, new RunReplayed(old.Id, newRunId, target.Version, reason, requestedBy, now, bulkReplayId));
        return newRunId;
    }
}
