using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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
    Func<Guid, object>? Inbound = null);

public enum StartResult { Started, Duplicate, Conflict }

public sealed record StartOutcome(StartResult Result, Guid RunId);

/// Records RunRequested and hands the run to the Workers in one transaction (Wolverine's outbox on
/// Marten): an accepted run is never lost, even if this process dies the next instant.
public sealed class RunStarter(IDocumentSession session, IMessageBus bus, TimeProvider clock)
{
    public async Task<StartOutcome> StartAsync(RunRequest request, CancellationToken ct)
    {
        var recipe = request.Recipe;
        var bodySha = Sha256(request.Input.GetRawText());
        var idempotencyId = request.IdempotencyKey is { } key ? RunIdempotency.IdFor(recipe.Id, key) : null;

        if (idempotencyId is not null && await session.LoadAsync<RunIdempotency>(idempotencyId, ct) is { } seen)
        {
            return Seen(seen, bodySha);
        }

        var now = clock.GetUtcNow();
        var runId = await StageAsync(session, bus, request, now, ct);
        // The request's own record commits with the run it started.
        if (request is { Inbound: { } inbound, InboundId: { } inboundId }) session.Events.StartStream(inboundId, inbound(runId));
        if (idempotencyId is not null)
        {
            session.Insert(new RunIdempotency { Id = idempotencyId, RunId = runId, BodySha256 = bodySha, CreatedAt = now });
        }
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (DocumentAlreadyExistsException) when (idempotencyId is not null)
        {
            // A concurrent request with the same key won the race: answer with its run.
            await using var fresh = session.DocumentStore.QuerySession(session.TenantId);
            return Seen((await fresh.LoadAsync<RunIdempotency>(idempotencyId, ct))!, bodySha);
        }
        return new StartOutcome(StartResult.Started, runId);
    }

    /// Adds a run to the session's unit of work: its first event, and the message that hands it to the
    /// Workers (in the same transaction, through the outbox). Nothing is written until the session is saved.
    public static async Task<Guid> StageAsync(IDocumentSession session, IMessageBus bus, RunRequest request, DateTimeOffset now,
        CancellationToken ct)
    {
        var recipe = request.Recipe;
        var version = request.Version ?? recipe.LatestVersion;
        var definition = (await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(recipe.Id, version), ct))!.Definition;
        var runId = Guid.CreateVersion7(now);
        var workItem = WorkItems.Extract(definition, request.Input);
        session.Events.StartStream<Run>(runId, new RunRequested(runId, recipe.Id, version, request.Trigger, request.Input,
            request.IdempotencyKey, workItem, request.ReplayOf, request.RequestedBy, now, request.InboundId));
        await bus.PublishAsync(new ExecuteRun(runId, session.TenantId), new DeliveryOptions { TenantId = session.TenantId });
        return runId;
    }

    private static StartOutcome Seen(RunIdempotency seen, string bodySha) =>
        new(seen.BodySha256 == bodySha ? StartResult.Duplicate : StartResult.Conflict, seen.RunId);

    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
