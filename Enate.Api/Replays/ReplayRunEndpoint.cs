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

    /// Replays one finished run from its recorded input, with the original, latest or a given recipe
    /// version. The new run's RunRequested names the old run, the old run's stream records RunReplayed,
    /// and both are committed with the message that starts the new run.
    [WolverinePost("/api/v1/runs/{id}/replay", OperationId = "ReplayRun")]
    [Authorize(Policy = Scopes.ReplayWrite)]
    [Tags("Replay")]
    [ProducesResponseType<RunAccepted>(StatusCodes.Status202Accepted)]
    [Answers("recipe-inactive", "run-not-finished")]
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

        var (target, refusal, reason) = await new ReplayTargets(session, version!).ResolveAsync(old, ct);
        IResult? problem = refusal switch
        {
            ReplayRefusal.RecipeMissing => Problems.NotFound($"Recipe '{old.RecipeKey}'"),
            ReplayRefusal.RecipeInactive => Problems.Conflict("recipe-inactive", reason),
            ReplayRefusal.VersionMissing => Problems.Validation([new("$.recipeVersion", reason)]),
            _ => null,
        };
        if (problem is not null) return problem;

        var newRunId = await Replaying.StartAsync(session, bus, old, target!, request.Reason!.Trim(), Enate.Api.Security.PrincipalExtensions.Who(user), clock.GetUtcNow(), ct);
        await session.SaveChangesAsync(ct);
        return Results.Accepted($"/api/v1/runs/{newRunId}", new RunAccepted(newRunId));
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
