using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Api.Platform;
using Enate.Domain;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Replays;

public sealed record WhatIfFilter(DateTimeOffset? From, DateTimeOffset? To, int? Limit);

public sealed record WhatIfBody(WhatIfFilter? Filter);

public sealed record WhatIfSummary(int Compared, int Changed, int Unchanged, int CallsChanged, int CallsNew, int CallsNotSent,
    IReadOnlyDictionary<string, int> Outcomes, IReadOnlyDictionary<string, int> ChangedPaths);

public sealed record WhatIfResult(string Key, int Version, WhatIfSummary Summary, IReadOnlyList<WhatIfRun> Runs);

public static class WhatIfEndpoint
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    /// What this version would have sent for past runs of the recipe (any version, newest first): their
    /// recorded inputs through this version's steps, each call answered by the partner's recorded answer
    /// to the same step. No call is made and nothing is recorded.
    [WolverinePost("/api/v1/recipes/{key}/versions/{version}/what-if", OperationId = "WhatIfRecipeVersion")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Replay")]
    public static async Task<IResult> Post(string key, int version, WhatIfBody? body, IQuerySession session, RunEngine engine,
        TimeProvider clock, CancellationToken ct)
    {
        var filter = body?.Filter ?? new WhatIfFilter(null, null, null);
        var problems = new List<FieldProblem>();
        if (filter.Limit is < 1 or > MaxLimit) problems.Add(new("$.filter.limit", $"must be between 1 and {MaxLimit}."));
        if (filter.From >= filter.To) problems.Add(new("$.filter.to", "must be later than from."));
        if (problems.Count > 0) return Problems.Validation(problems);

        var target = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(key, version), ct);
        if (target is null) return Problems.NotFound($"Version {version} of recipe '{key}'");

        var query = session.Query<RunSummary>().Where(r => r.RecipeKey == key);
        if (filter.From is not null) query = query.Where(r => r.RequestedAt >= filter.From.Value);
        if (filter.To is not null) query = query.Where(r => r.RequestedAt < filter.To.Value);
        var summaries = await query.OrderByDescending(r => r.Id).Take(filter.Limit ?? DefaultLimit).ToListAsync(ct);

        var connections = (await session.Query<Connection>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var now = clock.GetUtcNow();
        // Every compared run's events in one round trip (up to 200 reads one by one before), then all their inputs.
        var streams = await StreamReads.StreamsAsync(session, summaries.Select(s => s.Id), ct);
        var recordedEvents = summaries.Select(s => streams[s.Id].Select(e => e.Data).ToList()).ToList();
        var inputs = await RunInputs.OfAsync(session, recordedEvents.Select(events => events.OfType<RunRequested>().First()).ToList(), ct);
        var runs = new List<WhatIfRun>();
        foreach (var (summary, events) in summaries.Zip(recordedEvents))
            runs.Add(await WhatIf.CompareAsync(engine,
                new RecordedRun(summary.Id, summary.RecipeVersion, summary.Status, inputs[summary.Id], summary.Output, events),
                target, connections, session.TenantId, now, ct));
        return Results.Ok(new WhatIfResult(key, version, Summarize(runs), runs));
    }

    private static WhatIfSummary Summarize(List<WhatIfRun> runs)
    {
        var calls = runs.SelectMany(r => r.Outbound).ToList();
        // Which body fields change, and in how many calls: the one-line answer to "what does this version change?".
        var paths = calls.SelectMany(c => c.Diff.Select(d => $"{c.StepId}:{d.Path}").Distinct())
            .GroupBy(p => p).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        return new WhatIfSummary(
            runs.Count,
            runs.Count(r => r.Changed),
            runs.Count(r => !r.Changed),
            calls.Count(c => c.Status == WhatIf.ChangedCall),
            calls.Count(c => c.Status == WhatIf.New),
            calls.Count(c => c.Status == WhatIf.NotSent),
            runs.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Count()),
            paths);
    }
}
