using System.Security.Claims;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Runs;

public sealed record ReplayRequest(JsonElement RecipeVersion, string? Reason);

public static class ReplayRunEndpoint
{
    /// Re-runs a run from its recorded input, on its original recipe version, the latest, or a given one. The new
    /// run names the old one (replayOf) and the old stream records RunReplayed, in one transaction.
    [WolverinePost("/api/v1/runs/{id}/replay", OperationId = "ReplayRun")]
    [Authorize(Policy = Scopes.ReplayWrite)]
    [Tags("Runs")]
    public static async Task<IResult> Post(Guid id, ReplayRequest request, ClaimsPrincipal user, IDocumentSession session,
        IMessageBus bus, TimeProvider clock, CancellationToken ct)
    {
        var run = await session.Events.FetchLatest<RunSummary>(id, ct);
        if (run is null) return Problems.NotFound($"Run '{id}'");
        var recipe = await session.LoadAsync<Recipe>(run.RecipeKey, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{run.RecipeKey}'");

        var errors = new List<FieldProblem>();
        var version = Resolve(request.RecipeVersion, run, recipe);
        if (version is null) errors.Add(new("$.recipeVersion", $"must be \"original\", \"latest\" or a version of '{recipe.Id}' (1 to {recipe.LatestVersion})."));
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 500)
            errors.Add(new("$.reason", "a reason of 1 to 500 characters is required: it goes into the record."));
        if (errors.Count > 0) return Problems.Validation(errors);
        if (!recipe.Active) return Problems.Conflict("recipe-inactive", $"Recipe '{recipe.Id}' is deactivated.");

        var now = clock.GetUtcNow();
        var who = user.Who();
        var newRun = await RunStarter.StageAsync(session, bus,
            new RunRequest(recipe, run.Input, "replay", null, who, ReplayOf: id, Version: version), now, ct);
        session.Events.Append(id, new RunReplayed(id, newRun, version!.Value, request.Reason!.Trim(), who, now));
        await session.SaveChangesAsync(ct);
        return Results.Accepted($"/api/v1/runs/{newRun}", new RunAccepted(newRun));
    }

    private static int? Resolve(JsonElement requested, RunSummary run, Recipe recipe) => requested.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => run.RecipeVersion,
        JsonValueKind.String when requested.GetString() == "original" => run.RecipeVersion,
        JsonValueKind.String when requested.GetString() == "latest" => recipe.LatestVersion,
        JsonValueKind.Number when requested.TryGetInt32(out var n) && n >= 1 && n <= recipe.LatestVersion => n,
        _ => null,
    };
}
