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
    /// Every event of the run in order, with each outbound request and response as recorded (secrets redacted).
    [WolverineGet("/api/v1/runs/{id}/events", OperationId = "GetRunEvents")]
    [Authorize(Policy = Scopes.AuditRead)]
    [Tags("Runs")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(id, token: ct);
        if (events.Count == 0) return Problems.NotFound($"Run {id}");
        var items = new List<RecordedEvent>(events.Count);
        foreach (var e in events)
        {
            // A run started by an inbound request shows the input read from that request's body.
            var data = e.Data is RunRequested requested ? await RunInputs.WithInputAsync(session, requested, ct) : e.Data;
            items.Add(new RecordedEvent(e.Sequence, e.Version, e.EventType.Name, e.Timestamp, data));
        }
        return Results.Ok(new { items });
    }
}
