using System.Text.Json;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using JasperFx.Events;
using Marten;

namespace Enate.Workers.Runs;

/// What a message reads besides its run's stream, in one round trip: the recipe version (from memory when the run
/// names its SHA-256 and this process has read it before), the run's input when its inbound record holds it, and the
/// connections of the calls still to make (when the recipe came from memory; otherwise each is read when its call is
/// made). A PostgreSQL on another host charges each round trip in the step's latency. The connections of every call
/// still to come are read, not only the next one's (known only once the steps before it have run): a few more rows
/// in the same round trip.
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
        var cached = RecipeVersions.Cached(session.TenantId, id, run.RecipeSha256);
        var batch = session.CreateBatchQuery();
        var version = cached is null ? batch.Load<RecipeVersion>(id) : null;
        var inbound = run.InputInInbound ? batch.Events.FetchStream(RunInputs.InboundOf(run), 1) : null;
        var connections = (cached is null ? [] : cached.Steps.Where(step => !run.CompletedSteps.ContainsKey(step.Id)).Select(step => step.Connection)
                .Append(run.IsFinished ? cached.Callback?.Connection : null))
            .OfType<string>()
            .Distinct()
            .Select(name => (Name: name, Read: batch.Load<Connection>(name)))
            .ToList();
        if (version is not null || inbound is not null || connections.Count > 0) await batch.Execute(ct);

        var recipe = cached ?? (await version!) switch
        {
            { } loaded => RecipeVersions.Remember(session.TenantId, loaded),
            null => throw new InvalidOperationException($"Recipe version '{id}' of run {run.Id} does not exist."),
        };
        var input = RunInputs.Of(run, inbound is null ? [] : await inbound);
        var read = new Dictionary<string, Connection?>();
        foreach (var (name, connection) in connections) read[name] = await connection;
        return new RunReads(session, recipe, input, read);
    }

    /// The connection as read with the run, or read now when it was not.
    public async ValueTask<Connection?> ConnectionAsync(string name, CancellationToken ct) =>
        _connections.TryGetValue(name, out var connection) ? connection : _connections[name] = await _session.LoadAsync<Connection>(name, ct);
}
