using Microsoft.AspNetCore.Mvc;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Domain;
using Enate.Domain.Inbound;
using Enate.Domain.Platform;
using Enate.Domain.Security;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace Enate.Api.Triggers;

public static class InboundEndpoints
{
    private static readonly string[] AllVerdicts = [Verdicts.Accepted, Verdicts.Duplicate, Verdicts.Rejected];

    /// Every request that reached a trigger, newest first, with its verdict and the runs it started.
    [WolverineGet("/api/v1/inbound", OperationId = "ListInbound")]
    [ProducesResponseType<Page<InboundRequest>>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    [Answers("invalid-cursor")]
    public static async Task<IResult> List(IQuerySession session, string? verdict, string? trigger, DateTimeOffset? from,
        DateTimeOffset? to, int? limit, string? cursor, CancellationToken ct)
    {
        if (verdict is not null && !AllVerdicts.Contains(verdict))
            return Problems.Validation([new("$verdict", $"must be one of {string.Join(", ", AllVerdicts)}.")]);
        if (limit is < 1 or > Paging.MaxLimit)
            return Problems.Validation([new("$limit", $"must be between 1 and {Paging.MaxLimit}.")]);
        Guid after = default;
        if (cursor is not null && !ListRunsEndpoint.TryReadCursor(cursor, out after))
            return Problems.BadRequest("invalid-cursor", "The cursor is not one this API issued.");

        var query = session.Query<InboundRequest>().AsQueryable();
        if (verdict is not null) query = query.Where(r => r.Verdict == verdict);
        if (trigger is not null) query = query.Where(r => r.Trigger == trigger);
        // Ids are version 7 from the copy time: the bounds walk the primary key (no time index is kept).
        if (from is not null) query = query.Where(r => r.MatchesSql("d.id >= ?", TimeOrderedIds.First(from.Value)) && r.ReceivedAt >= from.Value);
        if (to is not null) query = query.Where(r => r.MatchesSql("d.id < ?", TimeOrderedIds.After(to.Value)) && r.ReceivedAt < to.Value);
        if (cursor is not null) query = query.Where(r => r.MatchesSql("d.id < ?", after));
        var take = limit ?? Paging.DefaultLimit;
        var items = await query.OrderByDescending(r => r.Id).Take(take + 1).ToListAsync(ct);
        var next = items.Count > take ? ListRunsEndpoint.WriteCursor(items[take - 1].Id) : null;
        return Results.Ok(new Page<InboundRequest>(await WithContentAsync(session, items.Take(take).ToList(), ct), next));
    }

    /// Headers and body text live in each record's one event, not in the read model: one query for a whole page.
    private static async Task<List<InboundRequest>> WithContentAsync(IQuerySession session, List<InboundRequest> page, CancellationToken ct)
    {
        if (page.Count == 0) return page;
        var events = await StreamReads.FirstEventsAsync(session, page.Select(r => r.Id), ct);
        var recorded = events.Select(e => e.Data).OfType<InboundRequestRecorded>().ToDictionary(e => e.Id);
        return page.Select(r => recorded.TryGetValue(r.Id, out var e) ? InboundRequestProjection.WithContent(r, e) : r).ToList();
    }

    /// One inbound request as it arrived: its headers (credentials redacted), body, verdict, answer and the runs it started.
    [WolverineGet("/api/v1/inbound/{id}", OperationId = "GetInbound")]
    [ProducesResponseType<InboundRequest>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<InboundRequest>(id, ct) is { } found
            ? Results.Ok((await WithContentAsync(session, [found], ct))[0])
            : Problems.NotFound($"Inbound request '{id}'");
}
