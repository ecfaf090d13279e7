using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Runs;

/// Each process brings the shared schema up to date when it starts, so the one that starts last must leave
/// the other working. (Once, the API rewrote Marten's append function for its own append mode and every
/// Workers append failed — unseen, because every other test starts the API first.)
public sealed class when_the_api_starts_after_the_workers : IAsyncLifetime
{
    private OwnPlatform _platform = null!;

    public async Task InitializeAsync() => _platform = await OwnPlatform.StartAsync(workersFirst: true);

    public async Task DisposeAsync() => await _platform.DisposeAsync();

    [Fact]
    public async Task the_workers_still_record_every_step_of_a_run()
    {
        var api = _platform.Api;
        var runId = await api.RequestRun("order", new { order = 1 });
        var run = await api.WaitForRun(runId, RunStatus.Succeeded);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Single(_platform.Partner.Requests);
        Assert.Equal(
            ["RunRequested", "RunStarted", "OutboundRequestSent", "OutboundResponseReceived", "StepCompleted", "RunSucceeded"],
            (await api.Events(runId)).Types());
    }
}
