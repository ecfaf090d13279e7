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

    public async ValueTask DisposeAsync()
    {
        await Partner.DisposeAsync();
        await Workers.StopAsync();
        await Workers.DisposeAsync();
        await Api.DisposeAsync();
        await Database.DisposeAsync();
    }
}
