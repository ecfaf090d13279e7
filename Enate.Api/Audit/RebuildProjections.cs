using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Domain.Audit;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Enate.Api.Audit;

public sealed record RebuildAccepted(Guid RebuildId);

public static class RebuildProjectionsEndpoint
{
    /// Rebuilds the caller's tenant's read models (run summaries, inbound requests) from the event log in the
    /// background: 202 with where to watch its progress; 409 while this tenant's rebuild is running. Reads and runs
    /// carry on meanwhile; each document is rewritten in place.
    [WolverinePost("/api/v1/admin/projections/rebuild", OperationId = "RebuildProjections")]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Admin")]
    [ProducesResponseType<RebuildAccepted>(StatusCodes.Status202Accepted)]
    [Answers("rebuild-running")]
    public static async Task<IResult> Post(ClaimsPrincipal user, ProjectionRebuilder rebuilder, CancellationToken ct)
    {
        var rebuild = await rebuilder.StartAsync(user.Tenant(), user.Who(), ct);
        if (rebuild is null) return Problems.Conflict("rebuild-running", "A rebuild of this tenant's read models is running already; wait for it to end.");
        return Results.Accepted($"/api/v1/admin/projections/rebuild/{rebuild.Id}", new RebuildAccepted(rebuild.Id));
    }

    /// A rebuild's progress: its status (running, succeeded, failed or abandoned), events processed of the total, and
    /// streams caught up.
    [WolverineGet("/api/v1/admin/projections/rebuild/{id}", OperationId = "GetProjectionRebuild")]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Admin")]
    [ProducesResponseType<ProjectionRebuild>(StatusCodes.Status200OK)]
    public static async Task<IResult> Get(Guid id, ClaimsPrincipal user, IDocumentStore store, ProjectionRebuilder rebuilder, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var rebuild = await session.LoadAsync<ProjectionRebuild>(id, ct);
        // Another tenant's rebuild is not there for this caller, as with any other resource.
        return rebuild is null || rebuild.TenantId != user.Tenant()
            ? Problems.NotFound($"Rebuild {id}")
            : Results.Ok(rebuilder.Reported(rebuild));
    }
}

public static class RebuildRegistration
{
    public static WebApplicationBuilder AddProjectionRebuilds(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ProjectionRebuilder>();
        return builder;
    }
}
