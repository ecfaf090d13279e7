using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Runs;

/// A connection may wait up to 300 s for its partner. A message's handling must be allowed at least that long, or the
/// Workers would give up on the call before the connection does (Wolverine cancels a handler after 60 s by default).
public sealed class when_a_partner_takes_minutes_to_answer
{
    [Fact]
    public async Task a_call_within_the_connections_timeout_is_waited_for()
    {
        await using var platform = await OwnPlatform.StartAsync();
        await platform.Api.PutConnection("erp", platform.Partner.BaseUrl, timeoutSeconds: 120);
        platform.Partner.Gate = new SemaphoreSlim(0);
        var runId = await platform.Api.RequestRun("order", new { order = 5 });
        await Eventually.Get(() => Task.FromResult(platform.Partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));

        // Past Wolverine's default of 60 s, well within the connection's 120 s.
        await Task.Delay(TimeSpan.FromSeconds(65));
        platform.Partner.Gate.Release(100);

        var run = await platform.Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(2));
        Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Reason}");
        Assert.Single(platform.Partner.Requests);
        Assert.Equal(1, platform.Partner.SuccessesFor($"{runId}:post"));
    }
}
