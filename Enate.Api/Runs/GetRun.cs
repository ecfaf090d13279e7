using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Domain.Runs;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Runs;

public static class GetRunEndpoint
{
    /// One run as it stands now, caught up with its latest event.
    [WolverineGet("/api/v1/runs/{id}", OperationId = "GetRun")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Runs")]
    public static async Task<IResult> Get(Guid id, IDocumentSession session, CancellationToken ct)
    {
        var run = await session.Events.FetchLatest<RunSummary>(id, ct);
        return run is null ? Results.NotFound() : Results.Ok(run);
    }
}
