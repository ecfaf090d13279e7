using Microsoft.AspNetCore.Mvc;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Api.Platform;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace Enate.Api.Recipes;

public sealed record DryRunRequest(JsonElement Input, int? Version);

public sealed record DryRunStep(string Id, string Type, string Outcome, JsonNode? Output, OutboundRequestSent? Request, string? Error);

public sealed record DryRunResult(string Key, int Version, string Outcome, IReadOnlyList<DryRunStep> Steps);

public static class DryRunEndpoint
{
    public const string Trigger = "dry-run";

    /// Runs the recipe over an input through the engine the Workers use, with the same limits, and shows each step's
    /// output and the requests it would send. No outbound call is made and no run is recorded; a call step's output is
    /// empty in a dry run, and a retry is never needed.
    [WolverinePost("/api/v1/recipes/{key}/dry-run", OperationId = "DryRunRecipe")]
    [ProducesResponseType<DryRunResult>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    public static async Task<IResult> Post(string key, DryRunRequest request, IQuerySession session, RunEngine engine, TimeProvider clock,
        CancellationToken ct)
    {
        if (request.Input.ValueKind == JsonValueKind.Undefined)
            return Problems.Validation([new("$.input", "is required: the trigger input to run the recipe over.")]);
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        var version = request.Version ?? recipe.LatestVersion;
        var saved = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct);
        if (saved is null) return Problems.NotFound($"Version {version} of recipe '{key}'");

        var run = Run.Create(new RunRequested(Guid.Empty, key, version, Trigger, request.Input, null, null, null, Trigger, clock.GetUtcNow()));
        var scope = new RunScope(session.TenantId, saved.Definition, request.Input,
            async (name, token) => await session.LoadAsync<Connection>(name, token));
        var pass = await engine.SimulateAsync(run, scope, WouldSend.Instance, ct);
        return Results.Ok(new DryRunResult(key, version, run.Status, Steps(pass.Events, saved.Definition)));
    }

    /// Each step the run reached, with what became of it.
    private static List<DryRunStep> Steps(IReadOnlyList<object> events, RecipeDefinition recipe)
    {
        var steps = new List<DryRunStep>();
        OutboundRequestSent? request = null;
        foreach (var e in events)
        {
            switch (e)
            {
                case OutboundRequestSent sent: request = sent; break;
                case StepCompleted done:
                    steps.Add(new DryRunStep(done.StepId, TypeOf(recipe, done.StepId), request is null ? RunStatus.Succeeded : "wouldSend",
                        JsonNode.Parse(done.Output.GetRawText()), request, null));
                    request = null;
                    break;
                case RunSkipped skipped:
                    steps.Add(new DryRunStep(skipped.StepId, TypeOf(recipe, skipped.StepId), RunStatus.Skipped, null, null, skipped.Reason));
                    break;
                case RunFailed failed when failed.StepId is { } id:
                    steps.Add(new DryRunStep(id, TypeOf(recipe, id), RunStatus.Failed, null, request, failed.Reason));
                    break;
            }
        }
        return steps;
    }

    private static string TypeOf(RecipeDefinition recipe, string stepId) => recipe.Steps.FirstOrDefault(s => s.Id == stepId)?.Type ?? "";
}
