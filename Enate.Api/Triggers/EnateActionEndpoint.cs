using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Recipes;
using Enate.Api.Runs;
using Enate.Api.Security;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
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
    [Consumes(typeof(System.Text.Json.JsonElement), "application/json")]
    [WolverinePost("/api/v1/enate/actions/{recipeKey}", OperationId = "TriggerFromEnateAction")]
    [ProducesResponseType<RunAccepted>(202)]
    [ProducesResponseType<RunAccepted>(200)]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RunsTrigger)]
    [Answers("recipe-inactive", "trigger-mismatch")]
    public static async Task<IResult> Post(string recipeKey, HttpRequest request, ClaimsPrincipal user,
        InboundRequests inbound, RecipeCache recipes, IDocumentStore store, CancellationToken ct)
    {
        var tenant = user.Tenant();
        var copy = await InboundCopy.ReadAsync(request, TriggerTypes.EnateAction, recipeKey, inbound.Now);
        var recipe = await recipes.FindAsync(tenant, recipeKey, ct);

        var (status, problem) = Check(recipe, recipeKey, copy, out var input, out var callbackUrl);
        if (problem is null && callbackUrl is not null) (status, problem) = await CheckCallbackAsync(store, tenant, recipe!, callbackUrl, ct);
        if (problem is not null)
        {
            await inbound.RejectAsync(tenant, copy, status, Problems.Describe(problem), ct);
            return problem;
        }

        var deliveryKey = $"action:{recipeKey}:{RunStarter.Sha256(callbackUrl ?? input.GetRawText())}";
        var result = await inbound.AcceptAsync(tenant, copy, deliveryKey, [recipe!], user.Who(), ct);
        var body = new RunAccepted(result.RunIds[0]);
        return result.Duplicate ? Results.Ok(body) : Results.Accepted($"/api/v1/runs/{body.RunId}", body);
    }

    private static (int, IResult?) Check(Recipe? recipe, string key, InboundCopy copy, out JsonElement input, out string? callbackUrl)
    {
        var json = copy.Json();
        input = default;
        callbackUrl = null;
        if (recipe is null) return (404, Problems.NotFound($"Recipe '{key}'"));
        if (json is not { } body) return (400, Problems.BadRequest("malformed-json", copy.JsonProblem ?? "The body is not valid JSON."));
        input = body;
        if (!recipe.Active) return (409, Problems.Conflict("recipe-inactive", $"Recipe '{key}' is deactivated."));
        if (recipe.TriggerType != TriggerTypes.EnateAction)
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

    /// The callback carries the recipe's Enate connection's credentials: its URL must be on that connection's origin, or
    /// on one the connection lists in callbackOrigins. Checked here so a foreign URL is refused before anything runs.
    private static async Task<(int, IResult?)> CheckCallbackAsync(IDocumentStore store, string tenant, Recipe recipe, string callbackUrl,
        CancellationToken ct)
    {
        await using var session = store.QuerySession(tenant);
        var definition = await RecipeVersions.DefinitionAsync(session, recipe, recipe.LatestVersion, ct);
        if (definition.Callback is not { Mode: CallbackModes.CallEnate, Connection: { } name }) return (202, null);
        var connection = await session.LoadAsync<Connection>(name, ct);
        if (connection is null || Origins.Allows(connection, new Uri(callbackUrl), callback: true)) return (202, null);
        return (422, Problems.Validation([new("$.CallBackURL",
            $"must be on the origin of connection '{name}' ({Origins.Of(connection.BaseUrl)}) or one of its callbackOrigins: " +
            "the callback carries that connection's credentials.")]));
    }

}
