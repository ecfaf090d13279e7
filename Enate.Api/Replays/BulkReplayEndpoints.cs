using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using System.Text.Json;
using Enate.Api.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using JasperFx;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Replays;

public sealed record BulkReplayRequest(ReplayFilter? Filter, JsonElement RecipeVersion, string? Reason, int? Concurrency);

public sealed record ReplayAccepted(Guid ReplayId);

/// A bulk replay's progress, counted from the replays' own outcomes when asked.
public sealed record BulkReplayView(
    Guid Id,
    string Status,
    int Total,
    int Started,
    int Succeeded,
    int Failed,
    int Skipped,
    int InFlight,
    int NotStarted,
    ReplayFilter Filter,
    string RecipeVersion,
    string Reason,
    string RequestedBy,
    int Concurrency,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<ReplayNotStarted> NotStartedRuns,
    string? Failure);

public static class BulkReplayEndpoints
{
    private static readonly string[] Finished = RunStatus.All.Where(RunStatus.IsFinished).ToArray();

    /// Replays every finished run that matches the filter, as a background job in the Workers. The runs
    /// are selected now (a snapshot); at most `concurrency` (default 100, max 500) replays are unfinished at once.
    [WolverinePost("/api/v1/replays", OperationId = "StartBulkReplay")]
    [Authorize(Policy = Scopes.ReplayWrite)]
    [Tags("Replay")]
    [ProducesResponseType<ReplayAccepted>(StatusCodes.Status202Accepted)]
    public static async Task<IResult> Post(System.Security.Claims.ClaimsPrincipal user, BulkReplayRequest request, IDocumentSession session, IMessageBus bus, TimeProvider clock,
        CancellationToken ct)
    {
        var (version, problems) = ReplayRequests.Check(request.RecipeVersion, request.Reason);
        var filter = request.Filter;
        if (filter is null || (filter.Recipe, filter.Status, filter.From, filter.To) is (null, null, null, null))
            problems.Add(new("$.filter", "must name at least one of recipe, status, from, to: a replay of everything is not what anyone means."));
        else
        {
            if (filter.Status is not null && !Finished.Contains(filter.Status))
                problems.Add(new("$.filter.status", $"must be one of {string.Join(", ", Finished)}: only finished runs are replayed."));
            if (filter.From >= filter.To) problems.Add(new("$.filter.to", "must be later than from."));
        }
        if (request.Concurrency is < 1 or > BulkReplay.MaxConcurrency)
            problems.Add(new("$.concurrency", $"must be between 1 and {BulkReplay.MaxConcurrency}."));
        if (version?.Kind == ReplayVersion.Numbered && filter?.Recipe is null)
            problems.Add(new("$.recipeVersion", "a version number needs filter.recipe: version numbers belong to one recipe."));
        if (problems.Count > 0) return Problems.Validation(problems);

        if (filter!.Recipe is { } key)
        {
            var recipe = await session.LoadAsync<Recipe>(key, ct);
            if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
            if (version!.Resolve(0, recipe) is null)
                return Problems.Validation([new("$.recipeVersion", $"recipe '{key}' has no version {version} (latest is {recipe.LatestVersion}).")]);
        }

        var query = session.Query<RunSummary>().Where(r => r.Status.IsOneOf(Finished));
        if (filter.Recipe is not null) query = query.Where(r => r.RecipeKey == filter.Recipe);
        if (filter.Status is not null) query = query.Where(r => r.Status == filter.Status);
        if (filter.From is not null) query = query.Where(r => r.RequestedAt >= filter.From.Value);
        if (filter.To is not null) query = query.Where(r => r.RequestedAt < filter.To.Value);
        var ids = await query.OrderBy(r => r.Id).Select(r => r.Id).Take(BulkReplay.MaxRuns + 1).ToListAsync(ct);
        if (ids.Count > BulkReplay.MaxRuns)
            return Problems.Validation([new("$.filter", $"matches more than {BulkReplay.MaxRuns} runs; narrow it (a time range, say).")]);

        var now = clock.GetUtcNow();
        var job = new BulkReplay
        {
            Id = Guid.CreateVersion7(now),
            Filter = filter,
            RecipeVersion = version!.ToString(),
            Reason = request.Reason!.Trim(),
            RequestedBy = Enate.Api.Security.PrincipalExtensions.Who(user),
            CreatedAt = now,
            Concurrency = request.Concurrency ?? BulkReplay.DefaultConcurrency,
            Total = ids.Count,
        };
        session.Insert(job);
        session.Insert(new ReplaySelection { Id = job.Id, RunIds = ids.ToList() });
        await bus.PublishAsync(new AdvanceReplay(job.Id, session.TenantId), new DeliveryOptions { TenantId = session.TenantId });
        await session.SaveChangesAsync(ct);
        return Results.Accepted($"/api/v1/replays/{job.Id}", new ReplayAccepted(job.Id));
    }

    /// A bulk replay's progress: how many runs it selected, started and finished, with each outcome's count.
    [WolverineGet("/api/v1/replays/{id}", OperationId = "GetBulkReplay")]
    [ProducesResponseType<BulkReplayView>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Replay")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken ct)
    {
        var job = await session.LoadAsync<BulkReplay>(id, ct);
        return job is null ? Problems.NotFound($"Replay {id}") : Results.Ok(await ViewAsync(job, session, ct));
    }

    /// Stops starting replays; those already started finish on their own. A finished job answers 409.
    [WolverinePost("/api/v1/replays/{id}/cancel", OperationId = "CancelBulkReplay")]
    [ProducesResponseType<BulkReplayView>(200)]
    [Authorize(Policy = Scopes.ReplayWrite)]
    [Tags("Replay")]
    [Answers("replay-finished")]
    public static async Task<IResult> Cancel(System.Security.Claims.ClaimsPrincipal user, Guid id, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        // The Workers save the job as it advances: on a collision, read it again and retry.
        for (var attempt = 1; ; attempt++)
        {
            await using var fresh = session.DocumentStore.LightweightSession(session.TenantId);
            var job = await fresh.LoadAsync<BulkReplay>(id, ct);
            if (job is null) return Problems.NotFound($"Replay {id}");
            var view = await ViewAsync(job, fresh, ct);
            if (view.Status is BulkReplayStatus.Completed or BulkReplayStatus.Failed)
                return Problems.Conflict("replay-finished", $"Replay {id} has already {view.Status}.");
            if (view.Status == BulkReplayStatus.Cancelled) return Results.Ok(view);

            job.Status = BulkReplayStatus.Cancelled;
            job.CancelledBy = Enate.Api.Security.PrincipalExtensions.Who(user);
            job.FinishedAt = clock.GetUtcNow();
            fresh.Store(job);
            try
            {
                await fresh.SaveChangesAsync(ct);
                return Results.Ok(await ViewAsync(job, fresh, ct));
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                await Task.Delay(50 * attempt, ct);
            }
        }
    }

    public static async Task<BulkReplayView> ViewAsync(BulkReplay job, IQuerySession session, CancellationToken ct)
    {
        // The job counted the replays that finished while it looked; those it still holds in flight are counted now.
        var statuses = await BulkReplay.StatusesAsync(session, job.InFlight, ct);
        var outcomes = job.Outcomes with { };
        var inFlight = 0;
        foreach (var id in job.InFlight)
        {
            if (statuses.TryGetValue(id, out var status) && RunStatus.IsFinished(status)) outcomes.Count(status);
            else if (statuses.ContainsKey(id)) inFlight++;
        }
        // The Workers mark it completed on their next look; the counts already say so.
        var state = job.Status == BulkReplayStatus.Running && job.Cursor == job.Total && inFlight == 0
            ? BulkReplayStatus.Completed
            : job.Status;
        return new BulkReplayView(job.Id, state, job.Total, job.StartedCount, outcomes.Succeeded, outcomes.Failed, outcomes.Skipped,
            inFlight, job.NotStarted.Count, job.Filter, job.RecipeVersion, job.Reason, job.RequestedBy, job.Concurrency, job.CreatedAt,
            job.FinishedAt, job.NotStarted, job.Failure);
    }
}
