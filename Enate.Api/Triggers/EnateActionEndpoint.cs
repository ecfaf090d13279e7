using System.Security.Claims;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Recipes;
using Enate.Api.Runs;
using Enate.Api.Security;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Triggers;

public static class EnateActionEndpoint
{
    /// Enate's "Trigger External API" action (pattern 1 and 4): body `{"Action":[packet],"CallBackURL":"..."}`.
    /// The action's CallBackURL identifies the call: Enate repeating it starts nothing new (200, same run).
    [WolverinePost("/api/v1/enate/actions/{recipeKey}", OperationId = "TriggerFromEnateAction")]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RunsTrigger)]
    public static async Task<IResult> Post(string recipeKey, HttpRequest request, ClaimsPrincipal user,
        TriggerIntake intake, RecipeCache recipes, CancellationToken ct)
    {
        var tenant = user.Tenant();
        var arrival = await Arrival.ReadAsync(request, Channels.EnateAction, recipeKey, intake.Now);
        var recipe = await recipes.FindAsync(tenant, recipeKey, ct);

        var (status, problem) = Check(recipe, recipeKey, arrival.Json(), out var input, out var callbackUrl);
        if (problem is not null)
        {
            await intake.RejectAsync(tenant, arrival, status, Describe(problem), ct);
            return problem;
        }

        var deliveryKey = $"action:{recipeKey}:{RunStarter.Sha256(callbackUrl ?? input.GetRawText())}";
        var result = await intake.AcceptAsync(tenant, arrival, deliveryKey, [recipe!], user.Who(), ct);
        var body = new RunAccepted(result.RunIds[0]);
        return result.Duplicate ? Results.Ok(body) : Results.Accepted($"/api/v1/runs/{body.RunId}", body);
    }

    private static (int, IResult?) Check(Recipe? recipe, string key, JsonElement? json, out JsonElement input, out string? callbackUrl)
    {
        input = default;
        callbackUrl = null;
        if (recipe is null) return (404, Problems.NotFound($"Recipe '{key}'"));
        if (json is not { } body) return (400, Problems.BadRequest("malformed-json", "The body is not valid JSON."));
        input = body;
        if (!recipe.Active) return (409, Problems.Conflict("recipe-inactive", $"Recipe '{key}' is deactivated."));
        if (recipe.TriggerType != Channels.EnateAction)
            return (409, Problems.Conflict("trigger-mismatch", $"Recipe '{key}' is triggered by '{recipe.TriggerType}', not by an Enate action."));

        var errors = new List<FieldProblem>();
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("Action", out var action) ||
            action.ValueKind != JsonValueKind.Array || action.GetArrayLength() == 0 || action[0].ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$.Action", "must be an array holding the action packet, as Enate sends it."));
        }
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("CallBackURL", out var url))
        {
            callbackUrl = url.ValueKind == JsonValueKind.String ? url.GetString() : null;
            if (!Uri.TryCreate(callbackUrl, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                errors.Add(new("$.CallBackURL", "must be an absolute http(s) URL."));
        }
        else
        {
            errors.Add(new("$.CallBackURL", "is required: Enate sends it with every action."));
        }
        return errors.Count > 0 ? (422, Problems.Validation(errors)) : (202, null);
    }

    private static string Describe(IResult problem) =>
        problem is IValueHttpResult { Value: Microsoft.AspNetCore.Mvc.ProblemDetails details } ? details.Detail ?? details.Title ?? "" : "Rejected.";
}
