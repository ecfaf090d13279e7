using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Api.Platform;
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
        return Results.Ok(new
        {
            items = events.Select(e => new RecordedEvent(e.Sequence, e.Version, e.EventType.Name, e.Timestamp, e.Data)),
        });
    }
}
