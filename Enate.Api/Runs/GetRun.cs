using Microsoft.AspNetCore.Mvc;
using Enate.Api.Platform;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Domain.Runs;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Runs;

public static class GetRunEndpoint
{
    /// One run as it stands now, caught up with its latest event; or, with `asOf` (a time) or `version` (an
    /// event number in the run's stream), as it stood then, rebuilt from the events up to that point.
    [WolverineGet("/api/v1/runs/{id}", OperationId = "GetRun")]
    [ProducesResponseType<RunSummary>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Runs")]
    public static async Task<IResult> Get(Guid id, DateTimeOffset? asOf, long? version, IDocumentSession session, CancellationToken ct)
    {
        if (asOf is not null && version is not null)
            return Problems.Validation([new("$asOf", "give asOf or version, not both.")]);
        if (version is < 1) return Problems.Validation([new("$version", "must be 1 or more.")]);

        var run = asOf is null && version is null
            ? await session.Events.FetchLatest<RunSummary>(id, ct)
            // PostgreSQL's driver takes a time in UTC only; a client may give any offset.
            : await session.Events.AggregateStreamAsync<RunSummary>(id, version ?? 0, asOf?.ToUniversalTime(), token: ct);
        return run is null
            ? Problems.NotFound(asOf is null && version is null ? $"Run '{id}'" : $"Run '{id}' at that point")
            : Results.Ok((await RunSummaryProjection.WithInputsAsync(session, [run], ct))[0]);
    }
}
