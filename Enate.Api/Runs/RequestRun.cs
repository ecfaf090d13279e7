using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Inbound;
using Enate.Domain.Runs;
using Enate.Api.Security;
using System.Security.Claims;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Enate.Api.Runs;

public sealed record RunAccepted(Guid RunId);

public static class RequestRunEndpoint
{
    /// Starts a run of the recipe's latest version with the request body as its input. A repeated
    /// Idempotency-Key with the same body answers 200 with the original run; with another body, 409.
    [WolverinePost("/api/v1/recipes/{key}/runs", OperationId = "RequestRun")]
    [Authorize(Policy = Scopes.RunsTrigger)]
    [Tags("Runs")]
    [ProducesResponseType<RunAccepted>(StatusCodes.Status202Accepted)]
    public static async Task<IResult> Post(
        string key,
        [FromBody] JsonElement input,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        HttpRequest http,
        ClaimsPrincipal user,
        IDocumentSession session,
        RunStarter starter,
        TimeProvider clock,
        CancellationToken ct)
    {
        var headers = Recording.Headers(http.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString())));
        var body = Recording.Body(input.GetRawText(), http.ContentType);
        var now = clock.GetUtcNow();
        var inboundId = Guid.CreateVersion7(now);
        InboundRequestRecorded Record(string verdict, int status, string? reason, params Guid[] runIds) =>
            new(inboundId, Channels.Api, key, http.Method, http.Path, headers, body, verdict, status, reason, runIds, now);

        var recipe = await session.LoadAsync<Recipe>(key, ct);
        IResult? rejection = recipe is null ? Problems.NotFound($"Recipe '{key}'")
            : !recipe.Active ? Problems.Conflict("recipe-inactive", $"Recipe '{key}' is deactivated.")
            : idempotencyKey is { Length: 0 or > 200 } ? Problems.BadRequest("idempotency-key", "Idempotency-Key must be 1 to 200 characters.")
            : null;
        if (rejection is not null)
        {
            session.Events.StartStream(inboundId, Record(Verdicts.Rejected, StatusOf(rejection), "See the status."));
            await session.SaveChangesAsync(ct);
            return rejection;
        }

        var outcome = await starter.StartAsync(new RunRequest(recipe!, input, Channels.Api, idempotencyKey, user.Who(),
            InboundId: inboundId, Inbound: runId => Record(Verdicts.Accepted, 202, null, runId)), ct);
        if (outcome.Result != StartResult.Started)
        {
            var duplicate = outcome.Result == StartResult.Duplicate;
            session.Events.StartStream(inboundId, Record(duplicate ? Verdicts.Duplicate : Verdicts.Rejected, duplicate ? 200 : 409,
                duplicate ? "A repeat of an Idempotency-Key." : "Idempotency-Key reused with another body.", outcome.RunId));
            await session.SaveChangesAsync(ct);
        }
        return Accepted(outcome);
    }

    private static int StatusOf(IResult result) => (result as IStatusCodeHttpResult)?.StatusCode ?? 400;

    public static IResult Accepted(StartOutcome outcome) => outcome.Result switch
    {
        StartResult.Started => Results.Accepted($"/api/v1/runs/{outcome.RunId}", new RunAccepted(outcome.RunId)),
        StartResult.Duplicate => Results.Ok(new RunAccepted(outcome.RunId)),
        _ => Problems.Conflict("idempotency-conflict",
            $"This Idempotency-Key was used for run {outcome.RunId} with a different body."),
    };
}
