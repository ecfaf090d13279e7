using Microsoft.AspNetCore.Mvc;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Api.Platform;
using Enate.Domain.Platform;
using Enate.Domain.Runs;
using Marten;
using Marten.Linq.MatchesSql;
using Wolverine.Http;

namespace Enate.Api.Runs;

public static class ListRunsEndpoint
{
    /// Runs, newest first, filtered by recipe, status, Enate work item and time; paged with an opaque cursor.
    [WolverineGet("/api/v1/runs", OperationId = "ListRuns")]
    [ProducesResponseType<Page<RunSummary>>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Runs")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> Get(IQuerySession session, string? recipe, string? status, string? workItem,
        DateTimeOffset? from, DateTimeOffset? to, int? limit, string? cursor, CancellationToken ct)
    {
        if (status is not null && !RunStatus.All.Contains(status))
            return Problems.Validation([new("$status", $"must be one of {string.Join(", ", RunStatus.All)}.")]);
        if (limit is < 1 or > Paging.MaxLimit) return Problems.Validation([new("$limit", $"must be between 1 and {Paging.MaxLimit}.")]);
        Guid? after = null;
        if (cursor is not null)
        {
            if (!TryReadCursor(cursor, out var id)) return Paging.InvalidCursor;
            after = id;
        }

        var query = session.Query<RunSummary>().AsQueryable();
        if (recipe is not null) query = query.Where(r => r.RecipeKey == recipe);
        if (status is not null) query = query.Where(r => r.Status == status);
        if (workItem is not null) query = query.Where(r => r.WorkItem == workItem);
        // The id bounds let PostgreSQL walk the primary key; the times keep the bounds exact below a millisecond.
        if (from is not null) query = query.Where(r => r.MatchesSql("d.id >= ?", TimeOrderedIds.First(from.Value)) && r.RequestedAt >= from.Value);
        if (to is not null) query = query.Where(r => r.MatchesSql("d.id < ?", TimeOrderedIds.After(to.Value)) && r.RequestedAt < to.Value);
        // Run ids are version 7 GUIDs: ordering by id is ordering by time, and a stable keyset.
        if (after is not null) query = query.Where(r => r.MatchesSql("d.id < ?", after.Value));

        var take = limit ?? Paging.DefaultLimit;
        var items = await query.OrderByDescending(r => r.Id).Take(take + 1).ToListAsync(ct);
        var next = items.Count > take ? WriteCursor(items[take - 1].Id) : null;
        return Results.Ok(new Page<RunSummary>((await RunSummaryProjection.WithInputsAsync(session, items.Take(take).ToList(), ct)).ToList(), next));
    }

    public static string WriteCursor(Guid id) => Paging.Cursor("run", id.ToString("N"));

    public static bool TryReadCursor(string cursor, out Guid id)
    {
        id = default;
        return Paging.TryRead(cursor, "run", out var position) && Guid.TryParseExact(position, "N", out id);
    }
}
