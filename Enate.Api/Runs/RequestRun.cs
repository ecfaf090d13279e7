using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Domain.Recipes;
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
        IDocumentSession session,
        RunStarter starter,
        CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        if (!recipe.Active) return Problems.Conflict("recipe-inactive", $"Recipe '{key}' is deactivated.");
        if (idempotencyKey is { Length: 0 or > 200 })
            return Problems.BadRequest("idempotency-key", "Idempotency-Key must be 1 to 200 characters.");

        var outcome = await starter.StartAsync(new RunRequest(recipe, input, "api", idempotencyKey, "api"), ct);
        return Accepted(outcome);
    }

    public static IResult Accepted(StartOutcome outcome) => outcome.Result switch
    {
        StartResult.Started => Results.Accepted($"/api/v1/runs/{outcome.RunId}", new RunAccepted(outcome.RunId)),
        StartResult.Duplicate => Results.Ok(new RunAccepted(outcome.RunId)),
        _ => Problems.Conflict("idempotency-conflict",
            $"This Idempotency-Key was used for run {outcome.RunId} with a different body."),
    };
}
