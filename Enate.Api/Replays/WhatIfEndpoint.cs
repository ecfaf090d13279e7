using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Replays;

public sealed record WhatIfBody(WhatIfFilter? Filter);

public sealed record WhatIfAccepted(Guid WhatIfId);

/// A what-if job as the API shows it: its progress, and the comparisons and their summary so far.
public sealed record WhatIfJobView(Guid Id, string Key, int Version, string Status, int Total, int Compared, WhatIfSummary Summary,
    IReadOnlyList<WhatIfRun> Runs, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

public static class WhatIfEndpoint
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 200;

    /// What this version would have sent for past runs of the recipe (any version, newest first): their recorded inputs
    /// through this version's steps in the engine the Workers use, each call answered by the partner's recorded answer to
    /// the same step and attempt. No call is made and nothing is recorded. With `Prefer: respond-async` the comparison
    /// runs in the Workers instead: 202 with the job's address (GET /api/v1/what-ifs/{id}).
    [WolverinePost("/api/v1/recipes/{key}/versions/{version}/what-if", OperationId = "WhatIfRecipeVersion")]
    [ProducesResponseType<WhatIfResult>(200)]
    [ProducesResponseType<WhatIfAccepted>(202)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Replay")]
    public static async Task<IResult> Post(string key, int version, WhatIfBody? body, HttpRequest http, ClaimsPrincipal user,
        IDocumentSession session, IMessageBus bus, RunEngine engine, TimeProvider clock, CancellationToken ct)
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
        query = query.OrderByDescending(r => r.Id).Take(filter.Limit ?? DefaultLimit);
        var now = clock.GetUtcNow();

        if (http.Headers["Prefer"].Any(p => p?.Contains("respond-async", StringComparison.OrdinalIgnoreCase) == true))
        {
            var job = new WhatIfJob
            {
                Id = Guid.CreateVersion7(now), Key = key, Version = version, Filter = filter, RequestedBy = user.Who(), CreatedAt = now,
                RunIds = (await query.Select(r => r.Id).ToListAsync(ct)).ToList(),
            };
            session.Insert(job);
            await bus.PublishAsync(new CompareRuns(job.Id, session.TenantId), new DeliveryOptions { TenantId = session.TenantId });
            await session.SaveChangesAsync(ct);
            return Results.Accepted($"/api/v1/what-ifs/{job.Id}", new WhatIfAccepted(job.Id));
        }

        var runs = await WhatIf.CompareAsync(session, engine, target, await query.ToListAsync(ct), now, ct);
        return Results.Ok(new WhatIfResult(key, version, WhatIf.Summarize(runs), runs));
    }

    /// A what-if job: running with the comparisons so far, or completed with all of them.
    [WolverineGet("/api/v1/what-ifs/{id}", OperationId = "GetWhatIf")]
    [ProducesResponseType<WhatIfJobView>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Replay")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<WhatIfJob>(id, ct) is { } job
            ? Results.Ok(new WhatIfJobView(job.Id, job.Key, job.Version, job.Status, job.RunIds.Count, job.Runs.Count, WhatIf.Summarize(job.Runs),
                job.Runs, job.CreatedAt, job.FinishedAt))
            : Problems.NotFound($"What-if {id}");
}
