using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Api.Platform;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Steps;
using Enate.Domain.Transforms;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Recipes;

public sealed record DryRunRequest(JsonElement Input, int? Version);

public sealed record DryRunStep(string Id, string Type, string Outcome, JsonNode? Output, OutboundRequestSent? Request, string? Error);

public sealed record DryRunResult(string Key, int Version, string Outcome, IReadOnlyList<DryRunStep> Steps);

public static class DryRunEndpoint
{
    /// Runs the recipe's templates over an input and shows each step's output and the requests it would send.
    /// No outbound call is made and no run is recorded; a call step's output is empty in a dry run.
    [WolverinePost("/api/v1/recipes/{key}/dry-run", OperationId = "DryRunRecipe")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    public static async Task<IResult> Post(string key, DryRunRequest request, IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        if (request.Input.ValueKind == JsonValueKind.Undefined)
            return Problems.Validation([new("$.input", "is required: the trigger input to run the recipe over.")]);
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        var version = request.Version ?? recipe.LatestVersion;
        var saved = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct);
        if (saved is null) return Problems.NotFound($"Version {version} of recipe '{key}'");

        var connections = (await session.Query<Connection>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var runId = Guid.Empty;
        var completed = new Dictionary<string, JsonElement>();
        var results = new List<DryRunStep>();
        var outcome = RunStatus.Succeeded;
        foreach (var step in saved.Definition.Steps)
        {
            var context = RunContext.Build(runId, session.TenantId, key, version, request.Input, completed);
            StepPlan plan;
            try
            {
                plan = StepInterpreter.Plan(step, context);
            }
            catch (TransformException ex)
            {
                results.Add(new DryRunStep(step.Id, step.Type, RunStatus.Failed, null, null, ex.Message));
                outcome = RunStatus.Failed;
                break;
            }

            if (plan is SkipPlan skip)
            {
                results.Add(new DryRunStep(step.Id, step.Type, RunStatus.Skipped, null, null, skip.Reason));
                outcome = RunStatus.Skipped;
                break;
            }
            if (plan is OutputPlan output)
            {
                completed[step.Id] = RunContext.ToElement(output.Output);
                results.Add(new DryRunStep(step.Id, step.Type, RunStatus.Succeeded, output.Output, null, null));
                continue;
            }

            var call = (CallPlan)plan;
            if (!connections.TryGetValue(call.Connection, out var connection))
            {
                results.Add(new DryRunStep(step.Id, step.Type, RunStatus.Failed, null, null, $"Connection '{call.Connection}' does not exist."));
                outcome = RunStatus.Failed;
                break;
            }
            var empty = new JsonObject { ["status"] = null, ["headers"] = new JsonObject(), ["body"] = null, ["dryRun"] = true };
            completed[step.Id] = RunContext.ToElement(empty);
            results.Add(new DryRunStep(step.Id, step.Type, "wouldSend", empty,
                OutboundRequests.Describe(runId, step.Id, 1, call, connection, clock.GetUtcNow()), null));
        }
        return Results.Ok(new DryRunResult(key, version, outcome, results));
    }
}
