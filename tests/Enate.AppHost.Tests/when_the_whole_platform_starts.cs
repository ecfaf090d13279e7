using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Enate.Testing;

namespace Enate.AppHost.Tests;

/// Starts the real app host (PostgreSQL in local mode, API, Workers, simulators) as a developer would.
public sealed class when_the_whole_platform_starts : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "enate-tests", $"apphost-{Guid.NewGuid():N}");
    private DistributedApplication _app = null!;
    private const string AdminKey = "apphost-test-admin-key-0001";

    public async Task InitializeAsync()
    {
        string[] args =
        [
            "Postgres:Mode=local",
            $"Postgres:DataDirectory={_dataDirectory}",
            $"Postgres:Port={FreePorts.Next()}",
            $"Ports:Api={FreePorts.Next()}",
            $"Ports:Simulators={FreePorts.Next()}",
            $"Parameters:bootstrap-api-key={AdminKey}",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Enate_AppHost>(
            args, (options, _) => options.DisableDashboard = true);
        _app = await builder.BuildAsync();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await _app.StartAsync(startup.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("api", startup.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("workers", startup.Token);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task the_api_is_healthy_and_a_requested_run_is_executed_by_the_workers()
    {
        using var api = _app.CreateHttpClient("api", "http");
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/api/v1/runs")).StatusCode);
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminKey);

        var saved = await api.PutAsJsonAsync("/api/v1/recipes/echo", new
        {
            name = "Echo",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        });
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);

        var accepted = await api.PostAsJsonAsync("/api/v1/recipes/echo/runs", new { hello = "world" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var runId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();

        var run = await Eventually.Get(
            async () => await api.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}"),
            r => r.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(60));
        Assert.Equal("world", run.GetProperty("output").GetProperty("hello").GetString());
    }
}
