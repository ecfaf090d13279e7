using Enate.Domain.Runs;

namespace Enate.Api.Tests.Security;

public sealed class when_a_recipe_points_inside_the_network(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.1.2.3:8080/admin")]
    [InlineData("http://[::ffff:192.168.0.1]/")]
    public async Task the_call_is_refused_recorded_and_not_retried(string url)
    {
        await Api.PutConnection("inside", url);
        await Api.PutRecipe("probe", new
        {
            name = "Probe",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "get", type = "http", connection = "inside", method = "GET", path = "/probe" } },
        });
        var runId = await Api.RequestRun("probe", new { });
        var run = await Api.WaitForRun(runId, RunStatus.Failed);

        Assert.Contains("Refused to connect", run.Reason);
        var events = await Api.Events(runId);
        Assert.Single(events, e => e.GetProperty("type").GetString() == "OutboundCallFailed");
        Assert.DoesNotContain(events, e => e.GetProperty("type").GetString() == "RetryScheduled");
    }
}
