using System.Text.Json;
using Enate.Domain.Runs;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Runs;

public sealed record RunAccepted(Guid RunId);

public static class RequestRunEndpoint
{
    /// Starts a run of the recipe's active version with the request body as its input.
    [WolverinePost("/api/v1/recipes/{key}/runs", OperationId = "RequestRun")]
    [Tags("Runs")]
    public static async Task<IResult> Post(
        string key,
        [FromBody] JsonElement input,
        IDocumentSession session,
        IMessageBus bus,
        TimeProvider clock)
    {
        var runId = Guid.CreateVersion7();
        var requested = new RunRequested(runId, key, 1, "api", input, null, null, null, "api", clock.GetUtcNow());
        session.Events.StartStream<RunSummary>(runId, requested);
        await bus.PublishAsync(new ExecuteRun(runId, session.TenantId));
        return Results.Accepted($"/api/v1/runs/{runId}", new RunAccepted(runId));
    }
}
