using System.Collections.Concurrent;
using System.Diagnostics;
using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Runs;

public sealed class when_a_run_is_traced(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_workers_handling_joins_the_trace_of_the_api_request()
    {
        var seen = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Wolverine" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = seen.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await Api.PutEchoRecipe("traced");
        // The caller's own trace (W3C traceparent), as a client with tracing of its own would send it.
        var trace = ActivityTraceId.CreateRandom();
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { x = 1 }).ToUrl("/api/v1/recipes/traced/runs");
            s.WithRequestHeader("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            s.StatusCodeShouldBe(202);
        });
        var runId = result.ReadAsJson<System.Text.Json.JsonElement>().GetProperty("runId").GetGuid();
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        await Task.Delay(200);

        // The API request and the handler that ran the step in the Workers both belong to the caller's trace.
        var inTrace = seen.Where(a => a.TraceId == trace).ToList();
        Assert.Contains(inTrace, a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Contains(nameof(ExecuteRun), string.Join(",", inTrace.Select(a => a.DisplayName)));
    }
}
