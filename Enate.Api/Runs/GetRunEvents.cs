using Microsoft.AspNetCore.Mvc;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Api.Platform;
using Enate.Domain.Runs;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Runs;

public sealed record RecordedEvent(long Sequence, long Version, string Type, DateTimeOffset Timestamp, object Data);

public static class GetRunEventsEndpoint
{
    /// The run's events in order, with each outbound request and response as recorded (secrets redacted); paged with
    /// `limit` and `cursor`, as every list is.
    [WolverineGet("/api/v1/runs/{id}/events", OperationId = "GetRunEvents")]
    [ProducesResponseType<Page<RecordedEvent>>(200)]
    [Authorize(Policy = Scopes.AuditRead)]
    [Tags("Runs")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> Get(Guid id, int? limit, string? cursor, IQuerySession session, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "event", out var position) is { } problem) return problem;
        var after = 0L;
        if (position is not null && !long.TryParse(position, out after)) return Paging.InvalidCursor;
        var take = limit ?? Paging.DefaultLimit;
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId == id && e.Version > after)
            .OrderBy(e => e.Version).Take(take + 1).ToListAsync(ct);
        if (events.Count == 0 && await session.Events.FetchStreamStateAsync(id, ct) is null) return Problems.NotFound($"Run {id}");
        var items = new List<RecordedEvent>(events.Count);
        foreach (var e in events)
        {
            // A run started by an inbound request shows the input read from that request's body.
            var data = e.Data is RunRequested requested ? await RunInputs.WithInputAsync(session, requested, ct) : e.Data;
            items.Add(new RecordedEvent(e.Sequence, e.Version, e.EventType.Name, e.Timestamp, data));
        }
        return Results.Ok(Paging.Of(items, take, e => e.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), "event"));
    }
}
