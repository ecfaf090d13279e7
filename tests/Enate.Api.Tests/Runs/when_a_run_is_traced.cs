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
        var runId = await Api.RequestRun("traced", new { x = 1 });
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        await Task.Delay(200);

        // The handler that ran the step in the Workers belongs to the trace of the API request.
        var request = seen.Last(a => a.DisplayName == "POST /api/v1/recipes/{key}/runs");
        var inTrace = seen.Where(a => a.TraceId == request.TraceId).Select(a => a.DisplayName).ToList();
        Assert.Contains(nameof(ExecuteRun), string.Join(",", inTrace));
        Assert.Contains("send", inTrace);
    }
}
