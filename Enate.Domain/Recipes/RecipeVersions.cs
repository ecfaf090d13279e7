using System.Collections.Concurrent;
using Marten;

namespace Enate.Domain.Recipes;

/// Saved recipe versions never change, so each is read from the database once per process, keyed by tenant, id
/// and the definition's SHA-256 (from the recipe document just read, or from the run that names the version), so
/// that nothing stale can be served — not even after a database is wiped and a recipe saved again under the same key.
public static class RecipeVersions
{
    private static readonly ConcurrentDictionary<(string Tenant, string Id, string Sha), RecipeDefinition> Cache = new();
    /// The version last read under each id, whatever its SHA-256.
    private static readonly ConcurrentDictionary<(string Tenant, string Id), (string Sha, RecipeDefinition Definition)> Latest = new();

    public static async Task<RecipeDefinition> DefinitionAsync(IQuerySession session, Recipe recipe, int version, CancellationToken ct)
    {
        var id = RecipeVersion.IdFor(recipe.Id, version);
        if (Cached(session.TenantId, id, ShaOf(recipe, version)) is { } cached) return cached;
        var loaded = (await session.LoadAsync<RecipeVersion>(id, ct))
            ?? throw new InvalidOperationException($"Recipe version '{id}' does not exist.");
        return Remember(session.TenantId, loaded);
    }

    /// The SHA-256 of a version's definition as the recipe lists it; null for a version it does not list.
    public static string? ShaOf(Recipe recipe, int version) => recipe.Versions.FirstOrDefault(v => v.Version == version)?.Sha256;

    /// The definition of a version already read in this process under this SHA-256; null when there is none (or no SHA).
    public static RecipeDefinition? Cached(string tenant, string id, string? sha) =>
        sha is not null && Cache.TryGetValue((tenant, id, sha), out var cached) ? cached : null;

    /// The version last read in this process under this id, with its SHA-256: a guess, to be served only once the run
    /// that names the version is read and names the same SHA-256.
    public static (string Sha, RecipeDefinition Definition)? Guess(string tenant, string id) =>
        Latest.TryGetValue((tenant, id), out var latest) ? latest : null;

    /// Keeps a version just read from the database, and returns its definition.
    public static RecipeDefinition Remember(string tenant, RecipeVersion loaded)
    {
        if (Cache.Count > 50_000)
        {
            Cache.Clear();
            Latest.Clear();
        }
        Latest[(tenant, loaded.Id)] = (loaded.Sha256, loaded.Definition);
        return Cache[(tenant, loaded.Id, loaded.Sha256)] = loaded.Definition;
    }
}
