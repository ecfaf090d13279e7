using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Api.Triggers;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Enate.Api.Runs;

public sealed record RunAccepted(Guid RunId);

public static class RequestRunEndpoint
{
    /// Starts a run of the recipe's latest version with the request body (any JSON) as its input. A repeated
    /// Idempotency-Key with the same body answers as the first request did (202, the same run, and
    /// `Idempotent-Replayed: true`); with another body, 422. Keys are remembered for `Enate:Idempotency:KeepFor`
    /// (24 hours). A body that is not JSON text (not UTF-8, malformed, an unpaired surrogate escape) is 400 and
    /// recorded as refused.
    [Consumes(typeof(System.Text.Json.JsonElement), "application/json")]
    [WolverinePost("/api/v1/recipes/{key}/runs", OperationId = "RequestRun")]
    [Authorize(Policy = Scopes.RunsTrigger)]
    [Tags("Runs")]
    [ProducesResponseType<RunAccepted>(StatusCodes.Status202Accepted)]
    [Answers("recipe-inactive", "idempotency-key", "idempotency-conflict")]
    public static async Task<IResult> Post(
        string key,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        HttpRequest http,
        ClaimsPrincipal user,
        IDocumentSession session,
        InboundRequests inbound,
        RunStarter starter,
        CancellationToken ct)
    {
        var tenant = user.Tenant();
        var copy = await InboundCopy.ReadAsync(http, TriggerTypes.Api, key, inbound.Now);
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        IResult? rejection = recipe is null ? Problems.NotFound($"Recipe '{key}'")
            : !recipe.Active ? Problems.Conflict("recipe-inactive", $"Recipe '{key}' is deactivated.")
            : idempotencyKey is { Length: 0 or > 200 } ? Problems.BadRequest("idempotency-key", "Idempotency-Key must be 1 to 200 characters.")
            : copy.JsonProblem is { } malformed ? Problems.BadRequest("malformed-json", malformed)
            : null;
        if (rejection is not null)
        {
            await inbound.RejectAsync(tenant, copy, Problems.StatusOf(rejection), Problems.Describe(rejection), ct);
            return rejection;
        }

        var inboundId = Guid.CreateVersion7(copy.At);
        var outcome = await starter.StartAsync(new RunRequest(recipe!, copy.Json()!.Value, TriggerTypes.Api, idempotencyKey, user.Who(),
            InboundId: inboundId, Inbound: runId => copy.Record(inboundId, Verdicts.Accepted, StatusCodes.Status202Accepted, null, [runId])), ct);
        if (outcome.Result == StartResult.Duplicate)
        {
            session.Events.StartStream(inboundId, copy.Record(inboundId, Verdicts.Duplicate, StatusCodes.Status202Accepted,
                "A repeat of an Idempotency-Key.", [outcome.RunId]));
            await session.SaveChangesAsync(ct);
            http.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        }
        var answer = Answer(outcome);
        if (outcome.Result == StartResult.Conflict)
            await inbound.RejectAsync(tenant, copy, StatusCodes.Status422UnprocessableEntity, $"Idempotency-Key reused with another body (run {outcome.RunId}).", ct);
        return answer;
    }

    /// A repeat answers with the first request's status and body.
    private static IResult Answer(StartOutcome outcome) => outcome.Result is StartResult.Started or StartResult.Duplicate
        ? Results.Accepted($"/api/v1/runs/{outcome.RunId}", new RunAccepted(outcome.RunId))
        : Problems.Problem(StatusCodes.Status422UnprocessableEntity, "idempotency-conflict", "Idempotency-Key reused.",
            $"This Idempotency-Key was used for run {outcome.RunId} with a different body.");
}
