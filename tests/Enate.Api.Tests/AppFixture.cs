extern alias workers;

using Alba;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using workers::Enate.Workers.Platform;

namespace Enate.Api.Tests;

/// One API (through Alba) and one Workers host per test assembly, on a real PostgreSQL.
public sealed class AppFixture : IAsyncLifetime
{
    private TestDatabase? _database;

    public IAlbaHost Api { get; private set; } = null!;
    public WebApplication Workers { get; private set; } = null!;
    public IDocumentStore Store => Api.Services.GetRequiredService<IDocumentStore>();
    public string ConnectionString => _database!.ConnectionString;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        try
        {
            await StartHostsAsync(_database);
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: stop the server here.
            await _database.DisposeAsync();
            throw;
        }
    }

    private async Task StartHostsAsync(TestDatabase database)
    {
        var connectionKey = $"ConnectionStrings:{EnateStore.DatabaseName}";

        // Program ends with RunJasperFxCommands: let the test host start it.
        JasperFxEnvironment.AutoStartHost = true;
        Api = await AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Testing");
            web.UseSetting(connectionKey, database.ConnectionString);
        });

        var workers = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        workers.Configuration[connectionKey] = database.ConnectionString;
        workers.WebHost.UseUrls("http://127.0.0.1:0");
        workers.AddServiceDefaults();
        workers.AddWorkers();
        Workers = workers.Build();
        await Workers.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Workers.StopAsync();
        await Workers.DisposeAsync();
        await Api.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app";
}

/// Each test starts with no documents and arranges its own data. The event log is kept: it is
/// append-only, the Workers' subscriptions track their place in it, and every run id is new anyway.
[Collection(AppCollection.Name)]
public abstract class AppTest(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;
    protected IAlbaHost Api => App.Api;

    public virtual Task InitializeAsync() => App.Store.Advanced.Clean.DeleteAllDocumentsAsync();
    public virtual Task DisposeAsync() => Task.CompletedTask;
}
