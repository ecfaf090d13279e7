using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;

namespace Enate.Domain.Replays;

/// Why a run cannot be replayed with the version asked for.
public enum ReplayRefusal { None, RecipeMissing, RecipeInactive, VersionMissing }

/// The recipe version a replay of a run uses, or why there is none — the same answer for one replay (the API) and for
/// a bulk job (the Workers). Recipes and versions read once are remembered for the next run of the same recipe.
public sealed class ReplayTargets(IQuerySession session, ReplayVersion version)
{
    private readonly Dictionary<string, Recipe?> _recipes = [];
    private readonly Dictionary<string, RecipeVersion?> _versions = [];

    public async Task<(RecipeVersion? Target, ReplayRefusal Refusal, string Reason)> ResolveAsync(RunSummary old, CancellationToken ct)
    {
        if (!_recipes.TryGetValue(old.RecipeKey, out var recipe)) _recipes[old.RecipeKey] = recipe = await session.LoadAsync<Recipe>(old.RecipeKey, ct);
        if (recipe is null) return (null, ReplayRefusal.RecipeMissing, $"Recipe '{old.RecipeKey}' does not exist.");
        if (!recipe.Active) return (null, ReplayRefusal.RecipeInactive, $"Recipe '{old.RecipeKey}' is deactivated.");
        if (version.Resolve(old.RecipeVersion, recipe) is not { } number)
            return (null, ReplayRefusal.VersionMissing, $"Recipe '{old.RecipeKey}' has no version {version} (latest is {recipe.LatestVersion}).");
        var id = RecipeVersion.IdFor(old.RecipeKey, number);
        if (!_versions.TryGetValue(id, out var target)) _versions[id] = target = await session.LoadAsync<RecipeVersion>(id, ct);
        return target is null
            ? (null, ReplayRefusal.VersionMissing, $"Recipe '{old.RecipeKey}' has no version {number}.")
            : (target, ReplayRefusal.None, "");
    }
}
