extern alias simulators;

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Enate.Api.UseCases;
using simulators::Enate.Simulators;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.UseCases;

/// The simulators on a real port, a relay that gives the Alba-hosted API a real address for them, and the
/// use cases installed through the public API exactly as the Development platform installs them.
public sealed class UseCaseWorld : IAsyncDisposable
{
    private WebApplication _simulators = null!;
    private Relay _relay = null!;

    public HttpClient Sim { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;
    public string PlatformUrl => _relay.BaseUrl;

    public static async Task<UseCaseWorld> StartAsync(IAlbaHost api, Func<string, JsonObject, JsonObject>? adjust = null)
    {
        var world = new UseCaseWorld();
        world._simulators = SimulatorApp.Build(["--urls", "http://127.0.0.1:0", "--Simulators:Webhooks:RetryDelayMs=200",
            "--Logging:LogLevel:Default=Warning"]);
        await world._simulators.StartAsync();
        var simUrl = world._simulators.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        world.Sim = new HttpClient { BaseAddress = new Uri(simUrl) };

        world._relay = await Relay.StartAsync(api.Server.CreateClient());
        // Through the relay, like everyone else: the URLs the API hands out then name an address that works.
        world.Api = new HttpClient { BaseAddress = new Uri(world._relay.BaseUrl) };
        world.Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppFixture.AdminKey);
        await UseCaseCatalog.InstallAsync(world.Api, world.Sim, new Uri(world.PlatformUrl), CancellationToken.None, adjust);
        return world;
    }

    public async Task<JsonElement> SimPost(string path, object body)
    {
        var response = await Sim.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<JsonElement> EnateGet(string path)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "enate-platform", ["client_secret"] = "sim-enate-secret",
        });
        var token = await (await Sim.PostAsync("/enate/oauth2/token", form)).Content.ReadFromJsonAsync<JsonElement>();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/enate/api/v1" + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("access_token").GetString());
        var response = await Sim.SendAsync(request);
        // Not there (yet) reads as an empty object, so tests can wait for it to appear.
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : JsonDocument.Parse("{}").RootElement;
    }

    public Task<JsonElement> Get(string path, string? header = null, string? value = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (header is not null) request.Headers.TryAddWithoutValidation(header, value);
        return Sim.SendAsync(request).ContinueWith(t => t.Result.Content.ReadFromJsonAsync<JsonElement>()).Unwrap();
    }

    /// A "Trigger External API" action in the simulated Enate, fired at one of the platform's recipes. The
    /// simulator answers with the platform's own status and body.
    public async Task<(Guid Action, int Status, JsonElement Answer)> TriggerAction(string recipe, object customData, Guid? parent = null)
    {
        // Custom data keeps the field names as written (Enate's are PascalCase), not the web default camelCase.
        var data = JsonSerializer.SerializeToNode(customData);
        var action = await SimPost("/enate/_sim/packets", new { processType = 3, title = $"Run {recipe}", customerName = "Acme", customData = data, parentGuid = parent });
        var guid = action.GetProperty("GUID").GetGuid();
        var response = await Sim.PostAsJsonAsync($"/enate/_sim/actions/{guid}/trigger",
            new { url = $"{PlatformUrl}/api/v1/enate/actions/{recipe}", apiKey = AppFixture.AdminKey, timeoutSeconds = 120 });
        return (guid, (int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// Every run with its status and reason: what a failing test should show.
    public async Task<string> Runs()
    {
        var runs = await Api.GetFromJsonAsync<JsonElement>("/api/v1/runs?limit=50");
        return string.Join("\n", runs.GetProperty("items").EnumerateArray().Select(r =>
            $"{r.GetProperty("recipeKey")} {r.GetProperty("status")} {r.GetProperty("reason")} callback={(r.TryGetProperty("callback", out var c) ? c : default)}"));
    }

    /// Side effects applied more than once for one idempotency key, in any simulated app.
    public async Task<List<string>> DoubledEffects()
    {
        var doubled = new List<string>();
        foreach (var app in new[] { "enate", "crm", "hr", "erp", "payroll", "portal" })
        {
            var effects = await Sim.GetFromJsonAsync<JsonElement>($"/_sim/{app}/effects");
            doubled.AddRange(effects.GetProperty("byKey").EnumerateObject()
                .Where(e => e.Name != "(none)" && e.Value.GetInt32() > 1).Select(e => $"{app} {e.Name} x{e.Value.GetInt32()}"));
        }
        return doubled;
    }

    public async ValueTask DisposeAsync()
    {
        await _relay.DisposeAsync();
        Sim.Dispose();
        Api.Dispose();
        await _simulators.StopAsync();
        await _simulators.DisposeAsync();
    }
}
