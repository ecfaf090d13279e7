using Alba;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;

namespace Enate.Api.Tests;

/// A database, an API and an in-process Workers host of a test's own, for tests whose platform must not be shared
/// (a blocked queue, a start order), and a partner for their runs to call.
public sealed class OwnPlatform : IAsyncDisposable
{
    private OwnPlatform(TestDatabase database, IAlbaHost api, WebApplication workers, TestPartner partner, CapturedLogs workersLogs)
    {
        WorkersLogs = workersLogs;
        Database = database;
        Api = api;
        Workers = workers;
        Partner = partner;
    }

    public TestDatabase Database { get; }
    public IAlbaHost Api { get; }
    public WebApplication Workers { get; }
    public TestPartner Partner { get; }
    /// What the Workers host logged.
    public CapturedLogs WorkersLogs { get; }

    public static async Task<OwnPlatform> StartAsync(bool workersFirst = false, IReadOnlyDictionary<string, string>? workersSettings = null)
    {
        var database = await TestDatabase.StartAsync();
        var logs = new CapturedLogs();
        IAlbaHost api;
        WebApplication workers;
        if (workersFirst)
        {
            workers = await AppFixture.StartWorkersAsync(database.ConnectionString, logs, workersSettings);
            api = await AppFixture.StartApiAsync(database.ConnectionString);
        }
        else
        {
            api = await AppFixture.StartApiAsync(database.ConnectionString);
            workers = await AppFixture.StartWorkersAsync(database.ConnectionString, logs, workersSettings);
        }
        var platform = new OwnPlatform(database, api, workers, await TestPartner.StartAsync(), logs);
        // Every such test runs one recipe calling the partner.
        await api.PutConnection("erp", platform.Partner.BaseUrl);
        await api.PutRecipe("order", new
        {
            name = "Order to ERP",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });
        return platform;
    }

    /// Requests a run of `order` and returns once its call has reached the partner, which holds it unanswered until
    /// the test releases `Partner.Gate`.
    public async Task<Guid> RunHeldAtThePartnerAsync(int order)
    {
        Partner.Gate = new SemaphoreSlim(0);
        var runId = await Api.RequestRun("order", new { order });
        await Eventually.Get(() => Task.FromResult(Partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));
        return runId;
    }

    /// Lets the partner answer the calls it holds, and any after them.
    public void ReleasePartner() => Partner.Gate?.Release(1000);

    /// Waits for the run to succeed, and checks that every request the partner saw for it carried its one key.
    public async Task AssertSucceededUnderOneKeyAsync(Guid runId)
    {
        var run = await Api.WaitForRun(runId, Enate.Domain.Runs.RunStatus.Succeeded, TimeSpan.FromMinutes(2));
        Assert.True(run.Status == Enate.Domain.Runs.RunStatus.Succeeded, $"{run.Status}: {run.Reason}");
        Assert.Equal([$"{runId}:post"], Partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
        Assert.True(Partner.SuccessesFor($"{runId}:post") >= 1);
    }

    public async ValueTask DisposeAsync()
    {
        await Partner.DisposeAsync();
        await Workers.StopAsync();
        await Workers.DisposeAsync();
        await Api.DisposeAsync();
        await Database.DisposeAsync();
    }
}
