using Microsoft.AspNetCore.Mvc;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Domain.Connections;
using Enate.Domain.Platform;
using Enate.Domain.Recipes;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Recipes;

/// A saved recipe's version, and what its author should know though nothing is wrong (paths that render a value raw).
public sealed record RecipeSaved(string Key, int Version, IReadOnlyList<FieldProblem> Notes);

public sealed record RecipeView(string Key, string Name, bool Active, int LatestVersion, RecipeDefinition Definition, IReadOnlyList<RecipeVersionInfo> Versions);

/// A recipe checked and not saved: `changed` is true when saving it would make a new version (always, for a new key).
public sealed record RecipeChecked(string Key, string Sha256, int? LatestVersion, bool Changed, RecipeDefinition Definition,
    IReadOnlyList<FieldProblem> Notes);

public sealed record RecipeActivation(string Key, bool Active);

public sealed record RecipeListed(string Key, string Name, bool Active, int LatestVersion, string Trigger, DateTimeOffset UpdatedAt);

public sealed record RecipeVersionView(string Key, int Version, string Sha256, DateTimeOffset CreatedAt, string CreatedBy, RecipeDefinition Definition);

public static class RecipeEndpoints
{
    /// The JSON Schema of a recipe definition.
    [WolverineGet("/api/v1/recipes/schema", OperationId = "GetRecipeSchema")]
    [ProducesResponseType<System.Text.Json.JsonElement>(200, "application/schema+json")]
    [AllowAnonymous]
    [Tags("Recipes")]
    public static IResult Schema() => Results.Text(RecipeJson.Schema.Value, "application/schema+json");

    /// Saves a new version when the definition changed; an identical one returns the current version. The answer's
    /// ETag is the recipe's; with `If-Match` the save happens only if the recipe is still as the client read it (412
    /// otherwise), with `If-None-Match: *` only if the key is new. The recipe may be sent as YAML
    /// (`Content-Type: application/yaml`): the same recipe, validated the same way, with the same JSON paths.
    [WolverinePut("/api/v1/recipes/{key}", OperationId = "PutRecipe")]
    [ProducesResponseType<RecipeSaved>(201)]
    [ProducesResponseType<RecipeSaved>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    [Answers("precondition-failed", "concurrent-change", "malformed-yaml")]
    [Consumes(typeof(RecipeDefinition), "application/json", "application/yaml")]
    public static async Task<IResult> Put(string key, HttpContext http, IDocumentSession session, TimeProvider clock,
        RecipeCache cache, CancellationToken ct)
    {
        var (checkedRecipe, refused) = await CheckAsync(key, http.Request, session, ct);
        if (checkedRecipe is null) return refused!;
        var (definition, sha, notes) = checkedRecipe;
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (Preconditions.CheckWrite(http.Request, recipe?.Revision, $"Recipe '{key}'") is { } failed) return failed;
        if (recipe is not null && recipe.Versions[^1].Sha256 == sha)
        {
            Preconditions.Tag(http.Response, recipe.Revision);
            return Results.Ok(new RecipeSaved(key, recipe.LatestVersion, notes));
        }

        var now = clock.GetUtcNow();
        var isNew = recipe is null;
        recipe ??= new Recipe { Id = key };
        var version = recipe.LatestVersion + 1;
        recipe.Name = definition.Name;
        recipe.LatestVersion = version;
        recipe.TriggerType = definition.Trigger.Type;
        recipe.TriggerWebhook = definition.Trigger.Webhook;
        var schedule = RecipeSchedule.Of(definition.Trigger);
        // A changed cron takes effect from its next occurrence: nothing of the old one counts as missed.
        if (schedule != recipe.Schedule) recipe.ScheduledSince = schedule is null ? null : now;
        recipe.Schedule = schedule;
        recipe.Connections = definition.Steps.Select(s => s.Connection).OfType<string>().Distinct().ToList();
        recipe.Versions.Add(new RecipeVersionInfo(version, sha, now, "api"));
        recipe.UpdatedAt = now;

        // Checked against the revision read: a concurrent change makes this save fail instead of undoing it.
        if (isNew) session.Insert(recipe);
        else session.Store(recipe);
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
        catch (Exception e) when (DatabaseProblems.IsConflict(e))
        {
            return Preconditions.Lost(http.Request, session, $"Recipe '{key}'");
        }
        cache.Forget(session.TenantId, key);
        Preconditions.Tag(http.Response, recipe.Revision);
        var saved = new RecipeSaved(key, version, notes);
        return version == 1 ? Results.Created($"/api/v1/recipes/{key}", saved) : Results.Ok(saved);
    }

    /// Checks a recipe as a save would, and saves nothing: the definition as the platform reads it (YAML turned into
    /// JSON, `$schema` dropped), its hash, and whether saving it would make a new version. For CI: a recipe file that
    /// passes here is saved by `PUT` unless a connection it uses changes in between.
    [WolverinePost("/api/v1/recipes/{key}/validate", OperationId = "ValidateRecipe")]
    [ProducesResponseType<RecipeChecked>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    [Answers("malformed-yaml")]
    [Consumes(typeof(RecipeDefinition), "application/json", "application/yaml")]
    // Not named Validate: Wolverine would take a method of that name for middleware of every endpoint in the class.
    public static async Task<IResult> CheckOnly(string key, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var (checkedRecipe, refused) = await CheckAsync(key, http.Request, session, ct);
        if (checkedRecipe is null) return refused!;
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        var latest = recipe?.Versions[^1];
        return Results.Ok(new RecipeChecked(key, checkedRecipe.Sha256, latest?.Version, latest?.Sha256 != checkedRecipe.Sha256,
            checkedRecipe.Definition, checkedRecipe.Notes));
    }

    private sealed record Checked(RecipeDefinition Definition, string Sha256, IReadOnlyList<FieldProblem> Notes);

    /// What a save and a validation share: the body read as JSON or YAML, its shape, its rules against the tenant's
    /// connections.
    private static async Task<(Checked? Recipe, IResult? Problem)> CheckAsync(string key, HttpRequest request, IQuerySession session,
        CancellationToken ct)
    {
        if (!Names.IsValid(key)) return (null, Problems.Validation([new("$key", Names.Rule)]));
        var (body, unreadable) = await ReadBodyAsync(request, ct);
        if (unreadable is not null) return (null, unreadable);
        var (definition, shapeProblem) = RecipeJson.Read(body);
        if (definition is null) return (null, Problems.Validation([new(shapeProblem!.Path, shapeProblem.Message)], "The recipe is not valid."));

        var connections = await session.Query<Connection>().ToListAsync(ct);
        var problems = RecipeValidator.Validate(definition, connections.ToDictionary(c => c.Id));
        if (problems.Count > 0) return (null, Problems.Validation(problems.Select(p => new FieldProblem(p.Path, p.Message)).ToList(), "The recipe is not valid."));
        var notes = RecipeValidator.Notes(definition).Select(n => new FieldProblem(n.Path, n.Message)).ToList();
        return (new Checked(definition, RunStarter.Sha256(RecipeJson.Canonical(definition)), notes), null);
    }

    /// The recipe as JSON, or as YAML (`Content-Type: application/yaml`) read into the JSON it stands for.
    private static async Task<(JsonElement Body, IResult? Problem)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (RecipeYaml.IsYaml(request.ContentType))
        {
            using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
            var (json, problem) = RecipeYaml.Read(await reader.ReadToEndAsync(ct));
            if (problem is not null) return (default, Problems.BadRequest("malformed-yaml", problem));
            var text = json?.ToJsonString() ?? "null";
            if (text.Contains("\\u0000", StringComparison.Ordinal))
                return (default, Problems.BadRequest("nul-character", "The recipe holds the character U+0000, which no recipe may contain."));
            return CheckedText(JsonSerializer.SerializeToElement(json));
        }
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            return CheckedText(document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            return (default, Problems.BadRequest("malformed-json", $"The body is not JSON: {e.Message.Split(" LineNumber:")[0]}"));
        }
    }

    /// Half a UTF-16 surrogate pair, escaped, is no character: no recipe can hold it, and no text of it can be read.
    private static (JsonElement Body, IResult? Problem) CheckedText(JsonElement body) => JsonText.HasUnpairedSurrogate(body)
        ? (default, Problems.BadRequest("malformed-json", $"The recipe is not valid JSON text: {JsonText.UnpairedSurrogate}"))
        : (body, null);

    /// Recipes by key, paged with `limit` and `cursor`.
    [WolverineGet("/api/v1/recipes", OperationId = "ListRecipes")]
    [ProducesResponseType<Page<RecipeListed>>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> List(int? limit, string? cursor, IQuerySession session, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "recipe", out var after) is { } problem) return problem;
        var query = session.Query<Recipe>().AsQueryable();
        if (after is not null) query = query.Where(r => r.Id.CompareTo(after) > 0);
        var take = limit ?? Paging.DefaultLimit;
        var recipes = await query.OrderBy(r => r.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(recipes.Select(r => new RecipeListed(r.Id, r.Name, r.Active, r.LatestVersion, r.TriggerType, r.UpdatedAt)).ToList(),
            take, r => r.Key, "recipe"));
    }

    /// The latest definition and the list of versions, with the recipe's ETag (`If-None-Match` with it: 304); with
    /// asOf, the version that was latest then.
    [WolverineGet("/api/v1/recipes/{key}", OperationId = "GetRecipe")]
    [ProducesResponseType<RecipeView>(200)]
    [ProducesResponseType(304)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    public static async Task<IResult> Get(string key, DateTimeOffset? asOf, HttpContext http, IQuerySession session, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        if (asOf is null)
        {
            Preconditions.Tag(http.Response, recipe.Revision);
            if (Preconditions.NotModified(http.Request, recipe.Revision)) return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        // As it was at a time: the newest version saved by then (versions are immutable).
        var version = asOf is null ? recipe.LatestVersion : recipe.Versions.Where(v => v.CreatedAt <= asOf).Select(v => v.Version).DefaultIfEmpty(0).Max();
        if (version == 0) return Problems.NotFound($"Recipe '{key}' at {asOf:O}");
        var shown = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct);
        return Results.Ok(new RecipeView(key, recipe.Name, recipe.Active, version, shown!.Definition,
            recipe.Versions.Where(v => v.Version <= version).ToList()));
    }

    /// One version, exactly as it was saved.
    [WolverineGet("/api/v1/recipes/{key}/versions/{version}", OperationId = "GetRecipeVersion")]
    [ProducesResponseType<RecipeVersionView>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Recipes")]
    public static async Task<IResult> GetVersion(string key, int version, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct) is { } v
            ? Results.Ok(new RecipeVersionView(v.Key, v.Version, v.Sha256, v.CreatedAt, v.CreatedBy, v.Definition))
            : Problems.NotFound($"Version {version} of recipe '{key}'");

    /// An active recipe starts runs when triggered; a schedule counts its occurrences from its activation.
    [WolverinePost("/api/v1/recipes/{key}/activate", OperationId = "ActivateRecipe")]
    [ProducesResponseType<RecipeActivation>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    [Answers("precondition-failed", "concurrent-change")]
    public static Task<IResult> Activate(string key, HttpContext http, IDocumentSession session, RecipeCache cache, TimeProvider clock,
        CancellationToken ct) =>
        SetActive(key, true, http, session, cache, clock, ct);

    /// An inactive recipe rejects triggers with 409, and its schedule fires nothing.
    [WolverinePost("/api/v1/recipes/{key}/deactivate", OperationId = "DeactivateRecipe")]
    [ProducesResponseType<RecipeActivation>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Recipes")]
    [Answers("precondition-failed", "concurrent-change")]
    public static Task<IResult> Deactivate(string key, HttpContext http, IDocumentSession session, RecipeCache cache, TimeProvider clock,
        CancellationToken ct) =>
        SetActive(key, false, http, session, cache, clock, ct);

    /// Activation is a write of the recipe: it changes its ETag and honours `If-Match`. A switch that already holds
    /// changes nothing and answers as if it had been made; so does one that lost a race to a request that made the same
    /// switch (without `If-Match`: with it, the client asked for the version it read, which is gone).
    private static async Task<IResult> SetActive(string key, bool active, HttpContext http, IDocumentSession session, RecipeCache cache,
        TimeProvider clock, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        if (Preconditions.CheckWrite(http.Request, recipe.Revision, $"Recipe '{key}'") is { } failed) return failed;
        if (recipe.Active == active) return Switched(http, key, active, recipe.Revision);
        // A schedule counts from its activation: occurrences while it was off are not missed, they were not wanted.
        if (active && recipe.Schedule is not null) recipe.ScheduledSince = clock.GetUtcNow();
        recipe.Active = active;
        session.Store(recipe);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (DatabaseProblems.IsConflict(e))
        {
            var lost = Preconditions.Lost(http.Request, session, $"Recipe '{key}'");
            if (http.Request.Headers.IfMatch.Count > 0) return lost;
            await using var fresh = session.DocumentStore.QuerySession(session.TenantId);
            return await fresh.LoadAsync<Recipe>(key, ct) is { } now && now.Active == active ? Switched(http, key, active, now.Revision) : lost;
        }
        cache.Forget(session.TenantId, key);
        return Switched(http, key, active, recipe.Revision);
    }

    private static IResult Switched(HttpContext http, string key, bool active, Guid revision)
    {
        Preconditions.Tag(http.Response, revision);
        return Results.Ok(new RecipeActivation(key, active));
    }
}
