using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Enate.Testing;

namespace Enate.AppHost.Tests;

/// Starts the real app host (PostgreSQL in local mode, API, Workers, simulators) as a developer would; once for
/// the class's tests.
public sealed class WholePlatform : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "enate-tests", $"apphost-{Guid.NewGuid():N}");
    public DistributedApplication App { get; private set; } = null!;
    public const string AdminKey = "apphost-test-admin-key-0001";

    public async Task InitializeAsync()
    {
        string[] args =
        [
            "Postgres:Mode=local",
            $"Postgres:DataDirectory={_dataDirectory}",
            $"Postgres:Port={FreePorts.Next()}",
            $"Ports:Api={FreePorts.Next()}",
            $"Ports:Simulators={FreePorts.Next()}",
            $"Ports:Console={FreePorts.Next()}",
            $"Parameters:bootstrap-api-key={AdminKey}",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Enate_AppHost>(
            args, (options, _) => options.DisableDashboard = true);
        App = await builder.BuildAsync();
        using var startup = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await App.StartAsync(startup.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("api", startup.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("workers", startup.Token);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("console", startup.Token);
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class when_the_whole_platform_starts(WholePlatform platform) : IClassFixture<WholePlatform>
{
    private const string AdminKey = WholePlatform.AdminKey;

    [Fact]
    public async Task the_api_is_healthy_and_a_requested_run_is_executed_by_the_workers()
    {
        using var api = platform.App.CreateHttpClient("api", "http");
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

    /// The console finds the API through service discovery and signs a user in with a key the API knows.
    [Fact]
    public async Task the_console_signs_in_through_the_api()
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new System.Net.CookieContainer() };
        using var console = new HttpClient(handler) { BaseAddress = platform.App.GetEndpoint("console", "http") };
        var page = await console.GetStringAsync("/sign-in");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var signedIn = await console.PostAsync("/session", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["key"] = AdminKey, ["return"] = "/runs",
        }));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/runs", signedIn.Headers.Location?.ToString());
        var runs = await console.GetAsync("/runs");
        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        Assert.Contains("<h1>Runs</h1>", await runs.Content.ReadAsStringAsync());
    }

    /// The dashboard's buttons on the API resource call the API with the bootstrap key.
    [Fact]
    public async Task the_dashboard_commands_reach_the_api()
    {
        var commands = platform.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.ResourceCommandService>();
        foreach (var command in new[] { "verify-audit", "rebuild-read-models", "rerun-dead-lettered" })
        {
            var result = await commands.ExecuteCommandAsync("api", command);
            Assert.True(result.Success, $"{command}: {result.Message}");
        }
    }

    [Fact]
    public async Task its_postgresql_spaces_checkpoints_for_an_event_store()
    {
        await using var connection = new Npgsql.NpgsqlConnection(await platform.App.GetConnectionStringAsync("postgres"));
        await connection.OpenAsync();
        foreach (var (name, value) in new[] { ("max_wal_size", "4GB"), ("min_wal_size", "1GB"), ("checkpoint_timeout", "15min") })
        {
            await using var show = new Npgsql.NpgsqlCommand($"show {name}", connection);
            Assert.Equal(value, await show.ExecuteScalarAsync());
        }
    }
}
