using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enate.Api.UseCases;

/// The use cases of Enate's iPaaS patterns, shipped as ready recipes (Recipes/*.json, embedded) with the
/// connections they need to the simulators. Installed through the public API like any client would, so
/// the same code serves the Development platform and the integration tests.
public static class UseCaseCatalog
{
    /// Recipe key → the simulated app whose webhook triggers it (null: triggered by Enate).
    public static readonly IReadOnlyDictionary<string, string?> Recipes = new Dictionary<string, string?>
    {
        ["hubspot-deal-onboarding"] = null,
        ["signed-contract-to-hr"] = null,
        ["erp-po-to-ap-case"] = null,
        ["crm-deal-to-onboarding-case"] = "crm",
        ["hr-employee-to-enate-user"] = "hr",
        ["portal-message-notify-owner"] = "portal",
        ["erp-exception-types-to-card"] = "erp",
        ["enate-email-to-portal"] = null,
        ["payroll-spreadsheet"] = null,
    };

    public static JsonObject Definition(string key)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Enate.Api.UseCases.Recipes.{key}.json")
            ?? throw new InvalidOperationException($"No embedded recipe '{key}'.");
        return JsonNode.Parse(stream)!.AsObject();
    }

    /// The simulators' credentials are published test values (docs/simulators.md), not secrets.
    public static IEnumerable<(string Name, object Body)> Connections(Uri simulators)
    {
        var root = simulators.ToString().TrimEnd('/');
        yield return ("enate", new
        {
            kind = "enate", baseUrl = $"{root}/enate", timeoutSeconds = 30,
            auth = new { type = "oauth2ClientCredentials", tokenUrl = $"{root}/enate/oauth2/token", clientId = "enate-platform", clientSecret = "sim-enate-secret" },
        });
        yield return ("crm", new { kind = "http", baseUrl = $"{root}/crm", timeoutSeconds = 30, auth = new { type = "bearer", token = "sim-crm-token" } });
        yield return ("hr", new { kind = "http", baseUrl = $"{root}/hr", timeoutSeconds = 30, auth = new { type = "apiKey", header = "X-Api-Key", value = "sim-hr-key" } });
        yield return ("erp", new { kind = "http", baseUrl = $"{root}/erp", timeoutSeconds = 30, auth = new { type = "basic", username = "erp", password = "sim-erp-pass" } });
        yield return ("payroll", new { kind = "http", baseUrl = $"{root}/payroll", timeoutSeconds = 30, auth = new { type = "apiKey", header = "X-Api-Key", value = "sim-payroll-key" } });
        yield return ("portal", new { kind = "http", baseUrl = $"{root}/portal", timeoutSeconds = 30, auth = new { type = "bearer", token = "sim-portal-token" } });
    }

    /// Installs (or re-installs: every step is idempotent) the connections and recipes through `api` (an admin
    /// key's client), points each partner webhook at its recipe's hook, and subscribes to Enate's NewCommunication.
    /// `platform` is this platform's base URL as the simulators reach it.
    public static async Task InstallAsync(HttpClient api, HttpClient simulators, Uri platform, CancellationToken ct,
        Func<string, JsonObject, JsonObject>? adjust = null)
    {
        foreach (var (name, body) in Connections(simulators.BaseAddress!))
            (await api.PutAsJsonAsync($"/api/v1/connections/{name}", body, ct)).EnsureSuccessStatusCode();
        foreach (var key in Recipes.Keys)
        {
            var definition = adjust is null ? Definition(key) : adjust(key, Definition(key));
            using var content = new StringContent(definition.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            var saved = await api.PutAsync($"/api/v1/recipes/{key}", content, ct);
            if (!saved.IsSuccessStatusCode)
                throw new InvalidOperationException($"Recipe '{key}' was refused: {await saved.Content.ReadAsStringAsync(ct)}");
        }

        foreach (var (key, app) in Recipes.Where(r => r.Value is not null))
        {
            var hook = await api.GetFromJsonAsync<JsonElement>($"/api/v1/recipes/{key}/webhook", ct);
            var url = new Uri(platform, new Uri(hook.GetProperty("url").GetString()!).AbsolutePath).ToString();
            var registered = await simulators.GetFromJsonAsync<JsonElement>($"/_sim/{app}/webhook-endpoints", ct);
            if (registered.EnumerateArray().Any(e => e.GetProperty("url").GetString() == url)) continue;
            (await simulators.PostAsJsonAsync($"/_sim/{app}/webhook-endpoints",
                new { url, secret = hook.GetProperty("secret").GetString() }, ct)).EnsureSuccessStatusCode();
        }

        if (!await EnateKnowsUsAsync(simulators, platform, ct))
        {
            (await api.PostAsJsonAsync("/api/v1/enate/subscriptions", new { connection = "enate", webhook = "NewCommunication" }, ct))
                .EnsureSuccessStatusCode();
        }
    }

    /// The simulated Enate forgets its subscriptions when it restarts; the platform's database does not.
    private static async Task<bool> EnateKnowsUsAsync(HttpClient simulators, Uri platform, CancellationToken ct)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "enate-platform", ["client_secret"] = "sim-enate-secret",
        });
        var token = await (await simulators.PostAsync("/enate/oauth2/token", form, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/enate/api/v1/WebHookSubscription");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.GetProperty("access_token").GetString());
        var list = await (await simulators.SendAsync(request, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
        var prefix = new Uri(platform, "/api/v1/enate/webhooks/").ToString();
        return list.ValueKind == JsonValueKind.Array && list.EnumerateArray().Any(s =>
            s.GetProperty("Webhook").GetString() == "NewCommunication" && s.GetProperty("SubscriberURL").GetString()!.StartsWith(prefix));
    }
}
