using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Simulators.Tests;

/// One simulator per test class on a real loopback port: webhooks and action callbacks need real addresses,
/// and a class of its own keeps parallel classes from seeing each other's faults and recordings.
public sealed class SimulatorFixture : IAsyncLifetime
{
    public const int RetryDelayMs = 100;

    private WebApplication _app = null!;

    public string BaseUrl { get; private set; } = "";
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = SimulatorApp.Build([
            "--urls", "http://127.0.0.1:0",
            $"--Simulators:Webhooks:RetryDelayMs={RetryDelayMs}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await _app.StartAsync();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async Task ResetAsync(string app) => (await Client.DeleteAsync($"/_sim/{app}")).EnsureSuccessStatusCode();

    public async Task<string> EnateTokenAsync()
    {
        var response = await Client.PostAsync("/enate/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "enate-platform",
            ["client_secret"] = "sim-enate-secret",
        }));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["access_token"]!.GetValue<string>();
    }

    public async Task<HttpClient> EnateClientAsync()
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await EnateTokenAsync());
        return client;
    }

    public async Task<JsonNode> GetJsonAsync(string path) =>
        JsonNode.Parse(await (await Client.GetAsync(path)).EnsureSuccessStatusCode().Content.ReadAsStringAsync())!;

    public async Task<JsonObject> SimPostAsync(string path, object body)
    {
        var response = await Client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public async Task PutFaultsAsync(string app, object faults) =>
        (await Client.PutAsJsonAsync($"/_sim/{app}/faults", faults)).EnsureSuccessStatusCode();

    public async Task<JsonArray> DeliveriesAsync(string app) => (await GetJsonAsync($"/_sim/{app}/deliveries")).AsArray();

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
