using Enate.Api.Platform;
using Enate.Domain.Recipes;
using Marten;

namespace Enate.Api.Recipes;

/// The recipe a trigger names, read about twice a second at most instead of once per request (a webhook burst asks
/// for the same recipe thousands of times). This process forgets an entry as soon as it changes the recipe; another
/// API replica sees a change (a deactivation, a new version) within a second.
public sealed class RecipeCache(IDocumentStore store, TimeProvider clock)
{
    private readonly FreshCache<(string Tenant, string Key), Recipe?> _recipes = new(TimeSpan.FromSeconds(1), clock);

    /// The recipe as stored (or null); shared between requests, so callers must not change it.
    public ValueTask<Recipe?> FindAsync(string tenant, string key, CancellationToken ct) =>
        _recipes.GetAsync((tenant, key), async id =>
        {
            await using var session = store.QuerySession(id.Tenant);
            return await session.LoadAsync<Recipe>(id.Key);
        }, ct);

    public void Forget(string tenant, string key) => _recipes.Forget((tenant, key));
}
