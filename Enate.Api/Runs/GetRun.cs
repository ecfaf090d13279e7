using Enate.Domain.Runs;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Runs;

public static class GetRunEndpoint
{
    /// One run as it stands now, caught up with its latest event; with asOf or version, as it was then.
    [WolverineGet("/api/v1/runs/{id}", OperationId = "GetRun")]
    [Tags("Runs")]
    public static async Task<IResult> Get(Guid id, DateTimeOffset? asOf, long? version, IDocumentSession session, CancellationToken ct)
    {
        if (asOf is not null || version is not null) return await Replays.TimeTravel.RunAsync(id, asOf, version, session, ct);
        var run = await session.Events.FetchLatest<RunSummary>(id, ct);
        return run is null ? Results.NotFound() : Results.Ok(run);
    }
}
