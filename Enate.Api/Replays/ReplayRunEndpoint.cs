using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Replays;

public sealed record ReplayRunRequest(JsonElement RecipeVersion, string? Reason);

public static class ReplayRunEndpoint
{
    public const int MaxReasonLength = 1000;

    /// Who asks. A placeholder until API keys name the caller; kept a parameter so it is one change then.

    /// Replays one finished run from its recorded input, with the original, latest or a given recipe
    /// version. The new run's RunRequested names the old run, the old run's stream records RunReplayed,
    /// and both are committed with the message that starts the new run.
    [WolverinePost("/api/v1/runs/{id}/replay", OperationId = "ReplayRun")]
    [Authorize(Policy = Scopes.ReplayWrite)]
    [Tags("Replay")]
    [ProducesResponseType<RunAccepted>(StatusCodes.Status202Accepted)]
    public static async Task<IResult> Post(Guid id, ReplayRunRequest request, System.Security.Claims.ClaimsPrincipal user,
        IDocumentSession session, IMessageBus bus,
        TimeProvider clock, CancellationToken ct)
    {
        var (version, problems) = ReplayRequests.Check(request.RecipeVersion, request.Reason);
        if (problems.Count > 0) return Problems.Validation(problems);

        var old = await session.LoadAsync<RunSummary>(id, ct);
        if (old is null) return Problems.NotFound($"Run {id}");
        if (!RunStatus.IsFinished(old.Status))
            return Problems.Conflict("run-not-finished", $"Run {id} is {old.Status}; replay it once it has finished.");

        var (target, problem) = await TargetAsync(session, old, version!, ct);
        if (problem is not null) return problem;

        var newRunId = await Replaying.StartAsync(session, bus, old, target!, request.Reason!.Trim(), Enate.Api.Security.PrincipalExtensions.Who(user), clock.GetUtcNow());
        await session.SaveChangesAsync(ct);
        return Results.Accepted($"/api/v1/runs/{newRunId}", new RunAccepted(newRunId));
    }

    private static async Task<(RecipeVersion?, IResult?)> TargetAsync(IDocumentSession session, RunSummary old, ReplayVersion version,
        CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(old.RecipeKey, ct);
        if (recipe is null) return (null, Problems.NotFound($"Recipe '{old.RecipeKey}'"));
        if (!recipe.Active) return (null, Problems.Conflict("recipe-inactive", $"Recipe '{old.RecipeKey}' is deactivated."));
        if (version.Resolve(old.RecipeVersion, recipe) is not { } number)
        {
            return (null, Problems.Validation([new("$.recipeVersion", $"recipe '{old.RecipeKey}' has no version {version} (latest is {recipe.LatestVersion}).")]));
        }
        var target = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(old.RecipeKey, number), ct);
        return target is null
            ? (null, Problems.Validation([new("$.recipeVersion", $"recipe '{old.RecipeKey}' has no version {number}.")]))
            : (target, null);
    }
}

/// Checks shared by the one-run and bulk replay requests (not named Validate: Wolverine would take it for middleware).
public static class ReplayRequests
{
    public static (ReplayVersion? Version, List<FieldProblem> Problems) Check(JsonElement recipeVersion, string? reason)
    {
        var problems = new List<FieldProblem>();
        var version = recipeVersion.ValueKind == JsonValueKind.Undefined ? null : ReplayVersion.Parse(recipeVersion);
        if (version is null) problems.Add(new("$.recipeVersion", ReplayVersion.Rule));
        if (string.IsNullOrWhiteSpace(reason)) problems.Add(new("$.reason", "is required: say why the run is replayed (it is kept in the audit record)."));
        else if (reason.Length > ReplayRunEndpoint.MaxReasonLength) problems.Add(new("$.reason", $"must be at most {ReplayRunEndpoint.MaxReasonLength} characters."));
        return (version, problems);
    }
}
