using System.Collections.Concurrent;
using Marten;

namespace Enate.Domain.Recipes;

/// Saved recipe versions never change, so each is read from the database once per process, keyed by tenant, id
/// and the definition's SHA-256 (from the recipe document just read), so that nothing stale can be served.
public static class RecipeVersions
{
    private static readonly ConcurrentDictionary<(string Tenant, string Id, string Sha), RecipeDefinition> Cache = new();

    public static async Task<RecipeDefinition> DefinitionAsync(IQuerySession session, Recipe recipe, int version, CancellationToken ct)
    {
        var id = RecipeVersion.IdFor(recipe.Id, version);
        var sha = recipe.Versions.FirstOrDefault(v => v.Version == version)?.Sha256 ?? "";
        if (Cache.TryGetValue((session.TenantId, id, sha), out var cached)) return cached;
        var loaded = (await session.LoadAsync<RecipeVersion>(id, ct))
            ?? throw new InvalidOperationException($"Recipe version '{id}' does not exist.");
        if (Cache.Count > 50_000) Cache.Clear();
        return Cache[(session.TenantId, id, loaded.Sha256)] = loaded.Definition;
    }
}
