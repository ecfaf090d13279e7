using System.Collections.Concurrent;
using Enate.Domain.Recipes;
using Marten;

namespace Enate.Api.Recipes;

/// The recipe a trigger names, read once a second at most instead of once per request (a webhook burst asks for
/// the same recipe thousands of times). This process forgets an entry as soon as it changes the recipe; another
/// API replica sees a change (a deactivation, a new version) within a second.
public sealed class RecipeCache(IDocumentStore store, TimeProvider clock)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<(string Tenant, string Key), (Recipe? Recipe, DateTimeOffset Until)> _entries = new();

    /// The recipe as stored (or null); shared between requests, so callers must not change it.
    public async ValueTask<Recipe?> FindAsync(string tenant, string key, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue((tenant, key), out var entry) && entry.Until > now) return entry.Recipe;
        await using var session = store.QuerySession(tenant);
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (_entries.Count > 10_000) _entries.Clear();
        _entries[(tenant, key)] = (recipe, now + CacheFor);
        return recipe;
    }

    public void Forget(string tenant, string key) => _entries.TryRemove((tenant, key), out _);
}
