using Enate.Api.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;

namespace Enate.Api.Replays;

/// A recipe as it stood at a moment: the version new runs used then.
public sealed record RecipeAsOfView(string Key, string Name, DateTimeOffset AsOf, int LatestVersion, RecipeDefinition Definition,
    IReadOnlyList<RecipeVersionInfo> Versions);

/// State as it was: a run replayed from its events up to a time or version through the same projection
/// that keeps the stored summary, so the answer is what the summary said at that point.
public static class TimeTravel
{
    public static async Task<IResult> RunAsync(Guid id, DateTimeOffset? asOf, long? version, IQuerySession session, CancellationToken ct)
    {
        if (asOf is not null && version is not null)
            return Problems.Validation([new("$version", "give asOf or version, not both.")]);
        if (version is < 1) return Problems.Validation([new("$version", "must be 1 or more: a run's first event is version 1.")]);

        var state = await session.Events.FetchStreamStateAsync(id, ct);
        if (state is null) return Problems.NotFound($"Run {id}");
        if (version > state.Version) return Problems.NotFound($"Version {version} of run {id} (it has {state.Version} events)");

        var run = await session.Events.AggregateStreamAsync<RunSummary>(id, version: version ?? 0, timestamp: asOf?.ToUniversalTime(), token: ct);
        return run is null ? Problems.NotFound($"Run {id} as of {asOf:O} (it was requested later)") : Results.Ok(run);
    }

    public static async Task<IResult> RecipeAsync(string key, DateTimeOffset asOf, IQuerySession session, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        var versions = recipe.Versions.Where(v => v.CreatedAt <= asOf).ToList();
        if (versions.Count == 0) return Problems.NotFound($"Recipe '{key}' as of {asOf:O} (its first version was saved later)");

        var then = versions[^1];
        var saved = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, then.Version), ct);
        return Results.Ok(new RecipeAsOfView(key, saved!.Definition.Name, asOf, then.Version, saved.Definition, versions));
    }
}
