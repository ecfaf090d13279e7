using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Recipes;

/// A saved recipe's version, and what its author should know though nothing is wrong (paths that render a value raw).
public sealed record RecipeSaved(string Key, int Version, IReadOnlyList<FieldProblem> Notes);

public sealed record RecipeView(string Key, string Name, bool Active, int LatestVersion, RecipeDefinition Definition, IReadOnlyList<RecipeVersionInfo> Versions);

public sealed record RecipeVersionView(string Key, int Version, string Sha256, DateTimeOffset CreatedAt, string CreatedBy, RecipeDefinition Definition);

public static class RecipeEndpoints
{
    /// The JSON Schema of a recipe definition.
    [WolverineGet("/api/v1/recipes/schema", OperationId = "GetRecipeSchema")]
    [AllowAnonymous]
    [Tags("Recipes")]
    public static IResult Schema() => Results.Text(RecipeJson.Schema.Value, "application/schema+json");

    /// Saves a new version when the definition changed; an identical one returns the current version.
    [WolverinePut("/api/v1/recipes/{key}", OperationId = "PutRecipe")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    public static async Task<IResult> Put(string key, JsonElement body, IDocumentSession session, TimeProvider clock, RecipeCache cache,
        CancellationToken ct)
    {
        if (!Names.IsValid(key)) return Problems.Validation([new("$key", Names.Rule)]);
        var (definition, shapeProblem) = RecipeJson.Read(body);
        if (definition is null) return Problems.Validation([new(shapeProblem!.Path, shapeProblem.Message)], "The recipe is not valid.");

        var connections = await session.Query<Connection>().ToListAsync(ct);
        var problems = RecipeValidator.Validate(definition, connections.ToDictionary(c => c.Id));
        if (problems.Count > 0) return Problems.Validation(problems.Select(p => new FieldProblem(p.Path, p.Message)).ToList(), "The recipe is not valid.");
        var notes = RecipeValidator.Notes(definition).Select(n => new FieldProblem(n.Path, n.Message)).ToList();

        var sha = RunStarter.Sha256(RecipeJson.Canonical(definition));
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is not null && recipe.Versions[^1].Sha256 == sha) return Results.Ok(new RecipeSaved(key, recipe.LatestVersion, notes));

        var now = clock.GetUtcNow();
        recipe ??= new Recipe { Id = key };
        var version = recipe.LatestVersion + 1;
        recipe.Name = definition.Name;
        recipe.LatestVersion = version;
        recipe.TriggerType = definition.Trigger.Type;
        recipe.TriggerWebhook = definition.Trigger.Webhook;
        recipe.Connections = definition.Steps.Select(s => s.Connection).OfType<string>().Distinct().ToList();
        recipe.Versions.Add(new RecipeVersionInfo(version, sha, now, "api"));
        recipe.UpdatedAt = now;

        session.Store(recipe);
        // Insert, not store: versions are immutable, and two concurrent saves cannot both take one number.
        session.Insert(new RecipeVersion
        {
            Id = RecipeVersion.IdFor(key, version), Key = key, Version = version, Definition = definition, Sha256 = sha,
            CreatedAt = now, CreatedBy = "api",
        });
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return Problems.Conflict("concurrent-change", $"Another version of recipe '{key}' was saved at the same moment; read it and try again.");
        }
        cache.Forget(session.TenantId, key);
        var saved = new RecipeSaved(key, version, notes);
        return version == 1 ? Results.Created($"/api/v1/recipes/{key}", saved) : Results.Ok(saved);
    }

    [WolverineGet("/api/v1/recipes", OperationId = "ListRecipes")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    public static async Task<IResult> List(IQuerySession session, CancellationToken ct)
    {
        var recipes = await session.Query<Recipe>().OrderBy(r => r.Id).ToListAsync(ct);
        return Results.Ok(new
        {
            items = recipes.Select(r => new { key = r.Id, r.Name, r.Active, r.LatestVersion, trigger = r.TriggerType, r.UpdatedAt }),
        });
    }

    /// The latest definition and the list of versions; with asOf, the version that was latest then.
    [WolverineGet("/api/v1/recipes/{key}", OperationId = "GetRecipe")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    public static async Task<IResult> Get(string key, DateTimeOffset? asOf, IQuerySession session, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        // As it was at a time: the newest version saved by then (versions are immutable).
        var version = asOf is null ? recipe.LatestVersion : recipe.Versions.Where(v => v.CreatedAt <= asOf).Select(v => v.Version).DefaultIfEmpty(0).Max();
        if (version == 0) return Problems.NotFound($"Recipe '{key}' at {asOf:O}");
        var shown = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct);
        return Results.Ok(new RecipeView(key, recipe.Name, recipe.Active, version, shown!.Definition,
            recipe.Versions.Where(v => v.Version <= version).ToList()));
    }

    /// One version, exactly as it was saved.
    [WolverineGet("/api/v1/recipes/{key}/versions/{version}", OperationId = "GetRecipeVersion")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    public static async Task<IResult> GetVersion(string key, int version, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct) is { } v
            ? Results.Ok(new RecipeVersionView(v.Key, v.Version, v.Sha256, v.CreatedAt, v.CreatedBy, v.Definition))
            : Problems.NotFound($"Version {version} of recipe '{key}'");

    [WolverinePost("/api/v1/recipes/{key}/activate", OperationId = "ActivateRecipe")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    public static Task<IResult> Activate(string key, IDocumentSession session, RecipeCache cache, CancellationToken ct) =>
        SetActive(key, true, session, cache, ct);

    /// An inactive recipe rejects triggers with 409.
    [WolverinePost("/api/v1/recipes/{key}/deactivate", OperationId = "DeactivateRecipe")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    public static Task<IResult> Deactivate(string key, IDocumentSession session, RecipeCache cache, CancellationToken ct) =>
        SetActive(key, false, session, cache, ct);

    private static async Task<IResult> SetActive(string key, bool active, IDocumentSession session, RecipeCache cache, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        recipe.Active = active;
        session.Store(recipe);
        await session.SaveChangesAsync(ct);
        cache.Forget(session.TenantId, key);
        return Results.Ok(new { key, active });
    }
}
