using System.Text.Json;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using JasperFx.Events;
using Marten;
using Marten.Events;
using Marten.Services.BatchQuerying;

namespace Enate.Workers.Runs;

/// What a message reads besides its run's stream, in one round trip: the recipe version (from memory when the run
/// names its SHA-256 and this process has read it before), the run's input when its inbound record holds it, and the
/// connections of the calls still to make (when the recipe came from memory; otherwise each is read when its call is
/// made). A PostgreSQL on another host charges each round trip in the step's latency. The connections of every call
/// still to come are read, not only the next one's (known only once the steps before it have run): a few more rows
/// in the same round trip. A new run's first message names what it needs, so those reads go with the stream's
/// (FetchAsync): one round trip in all. The run's summary comes along, into the session's identity map, where the
/// commit's inline projection finds it instead of reading it again.
public sealed class RunReads
{
    private readonly IQuerySession _session;
    private readonly Dictionary<string, Connection?> _connections;

    private RunReads(IQuerySession session, RecipeDefinition recipe, JsonElement input, Dictionary<string, Connection?> connections)
    {
        _session = session;
        Recipe = recipe;
        Input = input;
        _connections = connections;
    }

    public RecipeDefinition Recipe { get; }
    public JsonElement Input { get; }

    /// What the engine works with for this run.
    public RunScope Scope => new(_session.TenantId, Recipe, Input, ConnectionAsync);

    public static async Task<RunReads> LoadAsync(IQuerySession session, Run run, CancellationToken ct)
    {
        var id = RecipeVersion.IdFor(run.RecipeKey, run.RecipeVersion);
        var batch = session.CreateBatchQuery();
        var queued = Queued.On(batch, id, RecipeVersions.Cached(session.TenantId, id, run.RecipeSha256),
            run.InputInInbound ? RunInputs.InboundOf(run) : null, step => !run.CompletedSteps.ContainsKey(step), run.IsFinished);
        if (queued.Any)
        {
            // Along for the ride: the run's summary, which the commit's inline projection then finds in the session.
            _ = batch.Load<RunSummary>(run.Id);
            await batch.Execute(ct);
        }
        return await queued.ReadAsync(session, run);
    }

    /// A new run's stream for writing and its reads, in one round trip, from what its ExecuteRun says it needs (the recipe
    /// version, the inbound record). The reads are null when the run, once read, says otherwise, or is not new; then
    /// LoadAsync reads them from what the run says.
    public static async Task<(IEventStream<Run> Stream, RunReads? Reads)> FetchAsync(IDocumentSession session, Guid runId, string recipe,
        Guid? inbound, CancellationToken ct)
    {
        var batch = session.CreateBatchQuery();
        var stream = batch.Events.FetchForWriting<Run>(runId);
        _ = batch.Load<RunSummary>(runId);
        var guess = RecipeVersions.Guess(session.TenantId, recipe);
        var queued = Queued.On(batch, recipe, guess?.Definition, inbound, _ => true, finished: false);
        await batch.Execute(ct);
        var fetched = await stream;
        var run = fetched.Aggregate;
        var asSaid = run is { IsFinished: false, CompletedSteps.Count: 0 }
                     && RecipeVersion.IdFor(run.RecipeKey, run.RecipeVersion) == recipe
                     && (guess is null || guess.Value.Sha == run.RecipeSha256)
                     && (run.InputInInbound ? run.InboundId == inbound : inbound is null);
        return (fetched, asSaid ? await queued.ReadAsync(session, run!) : null);
    }

    /// One run's reads queued on a batch: its recipe version unless known, its inbound record's first event, and the
    /// connections of the steps still to do (and of the callback once the run is finished) when the recipe is known.
    private sealed class Queued(string id, RecipeDefinition? known, Task<RecipeVersion?>? version, Task<IReadOnlyList<IEvent>>? inbound,
        List<(string Name, Task<Connection?> Read)> connections)
    {
        public static Queued On(IBatchedQuery batch, string id, RecipeDefinition? known, Guid? inbound, Func<string, bool> toDo, bool finished) =>
            new(id, known, known is null ? batch.Load<RecipeVersion>(id) : null, inbound is { } record ? batch.Events.FetchStream(record, 1) : null,
                (known is null ? [] : known.Steps.Where(step => toDo(step.Id)).Select(step => step.Connection)
                        .Append(finished ? known.Callback?.Connection : null))
                    .OfType<string>()
                    .Distinct()
                    .Select(name => (name, batch.Load<Connection>(name)))
                    .ToList());

        public bool Any => version is not null || inbound is not null || connections.Count > 0;

        public async Task<RunReads> ReadAsync(IQuerySession session, Run run)
        {
            var recipe = known ?? (await version!) switch
            {
                { } loaded => RecipeVersions.Remember(session.TenantId, loaded),
                null => throw new RunCannotGoOn($"Recipe version '{id}' of run {run.Id} does not exist."),
            };
            var input = RunInputs.Of(run, inbound is null ? [] : await inbound);
            var read = new Dictionary<string, Connection?>();
            foreach (var (name, connection) in connections) read[name] = await connection;
            return new RunReads(session, recipe, input, read);
        }
    }

    /// The connection as read with the run, or read now when it was not.
    public async ValueTask<Connection?> ConnectionAsync(string name, CancellationToken ct) =>
        _connections.TryGetValue(name, out var connection) ? connection : _connections[name] = await _session.LoadAsync<Connection>(name, ct);
}
