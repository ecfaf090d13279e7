using Alba;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;

namespace Enate.Api.Tests.Runs;

/// Each process brings the shared schema up to date when it starts, so the one that starts last must leave
/// the other working. (Once, the API rewrote Marten's append function for its own append mode and every
/// Workers append failed — unseen, because every other test starts the API first.)
public sealed class when_the_api_starts_after_the_workers : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private WebApplication _workers = null!;
    private IAlbaHost _api = null!;
    private TestPartner _partner = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        _workers = await AppFixture.StartWorkersAsync(_database.ConnectionString);
        _api = await AppFixture.StartApiAsync(_database.ConnectionString);
        _partner = await TestPartner.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _partner.DisposeAsync();
        await _api.DisposeAsync();
        await _workers.StopAsync();
        await _workers.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task the_workers_still_record_every_step_of_a_run()
    {
        await _api.PutConnection("erp", _partner.BaseUrl);
        await _api.PutRecipe("order", new
        {
            name = "Order to ERP",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });

        var runId = await _api.RequestRun("order", new { order = 1 });
        var run = await _api.WaitForRun(runId, RunStatus.Succeeded);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Single(_partner.Requests);
        Assert.Equal(
            ["RunRequested", "RunStarted", "StepStarted", "OutboundRequestSent", "OutboundResponseReceived", "StepCompleted", "RunSucceeded"],
            (await _api.Events(runId)).Types());
    }
}
