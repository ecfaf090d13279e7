using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using JasperFx;

namespace Enate.Api.Runs;

/// What a trigger asks for: a run of the recipe's latest version with this input.
public sealed record RunRequest(
    Recipe Recipe,
    JsonElement Input,
    string Trigger,
    string? IdempotencyKey,
    string RequestedBy,
    Guid? ReplayOf = null,
    int? Version = null,
    Guid? InboundId = null,
    Func<Guid, object>? Inbound = null,
    bool InputInInbound = false);

public enum StartResult { Started, Duplicate, Conflict }

public sealed record StartOutcome(StartResult Result, Guid RunId);

/// Records RunRequested and hands the run to the Workers in one transaction (group commit: the run, its records
/// and its queue message commit together): an accepted run is never lost, even if this process dies the next instant.
public sealed class RunStarter(IDocumentSession session, GroupCommit commits, TimeProvider clock, IdempotencyWindow window)
{
    public async Task<StartOutcome> StartAsync(RunRequest request, CancellationToken ct)
    {
        var recipe = request.Recipe;
        var bodySha = Sha256(request.Input.GetRawText());
        var idempotencyId = request.IdempotencyKey is { } key ? RunIdempotency.IdFor(recipe.Id, key) : null;
        var now = clock.GetUtcNow();

        if (idempotencyId is not null && await session.LoadAsync<RunIdempotency>(idempotencyId, ct) is { } seen)
        {
            if (window.Holds(seen, now)) return Seen(seen, bodySha);
            // The key has expired and may start a new run. Only the expired record goes: one a concurrent request
            // has just written stays, and this request's insert then loses the race below and answers with its run.
            var cutoff = window.Cutoff(now);
            session.DeleteWhere<RunIdempotency>(k => k.Id == idempotencyId && k.CreatedAt <= cutoff);
            await session.SaveChangesAsync(ct);
        }

        var (run, message) = await PrepareAsync(session, request, now, ct);
        var streams = new List<NewStream> { run };
        // The request's own record commits with the run it started.
        if (request is { Inbound: { } inbound, InboundId: { } inboundId })
            streams.Add(new NewStream(typeof(Enate.Domain.Inbound.InboundRequest), inboundId, [inbound(run.Id)]));
        object[] documents = idempotencyId is null
            ? []
            : [new RunIdempotency { Id = idempotencyId, RunId = run.Id, BodySha256 = bodySha, CreatedAt = now }];
        try
        {
            // Committed together with concurrent requests' runs in one transaction, the message to the Workers included.
            await commits.CommitAsync(new RunStart(session.TenantId, streams, documents, [message]), ct);
        }
        catch (DocumentAlreadyExistsException) when (idempotencyId is not null)
        {
            // A concurrent request with the same key won the race: answer with its run.
            await using var fresh = session.DocumentStore.QuerySession(session.TenantId);
            return Seen((await fresh.LoadAsync<RunIdempotency>(idempotencyId, ct))!, bodySha);
        }
        return new StartOutcome(StartResult.Started, run.Id);
    }

    /// A new run's stream and the message that hands it to the Workers, for the session's tenant.
    public static async Task<(NewStream Run, ExecuteRun Message)> PrepareAsync(IQuerySession session, RunRequest request,
        DateTimeOffset now, CancellationToken ct)
    {
        var recipe = request.Recipe;
        var version = request.Version ?? recipe.LatestVersion;
        var definition = await RecipeVersions.DefinitionAsync(session, recipe, version, ct);
        var runId = Guid.CreateVersion7(now);
        var requested = NewRuns.Requested(runId, recipe.Id, version, definition, RecipeVersions.ShaOf(recipe, version), request.Trigger,
            request.Input, request.RequestedBy, now, request.IdempotencyKey, request.ReplayOf, request.InboundId, request.InputInInbound);
        return (new NewStream(typeof(Run), runId, [requested]),
            new ExecuteRun(runId, session.TenantId, RecipeVersion.IdFor(recipe.Id, version), request.InputInInbound ? request.InboundId : null));
    }

    private static StartOutcome Seen(RunIdempotency seen, string bodySha) =>
        new(seen.BodySha256 == bodySha ? StartResult.Duplicate : StartResult.Conflict, seen.RunId);

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
