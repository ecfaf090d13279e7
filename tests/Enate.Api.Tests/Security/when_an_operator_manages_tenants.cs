using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;
using Enate.Api.Tests.Triggers;

namespace Enate.Api.Tests.Security;

/// Tenants are made through the API by the platform operator's key, which can do nothing inside a tenant; each new
/// tenant's first admin key is shown once; a disabled tenant's keys and deliveries are refused until it is enabled.
public sealed class when_an_operator_manages_tenants(AppFixture app) : AppTest(app)
{
    private Task<IScenarioResult> As(string key, Action<Scenario> request) => Api.Scenario(s =>
    {
        request(s);
        s.WithRequestHeader("Authorization", $"Bearer {key}");
        s.IgnoreStatusCode();
    });

    private static string Type(IScenarioResult result) => result.ReadAsJson<JsonElement>().GetProperty("type").GetString()!;

    [Fact]
    public async Task a_new_tenant_works_with_its_first_admin_key_and_sees_nothing_of_another()
    {
        var created = await As(AppFixture.OperatorKey, s => s.Post.Json(new { id = "acme", name = "Acme Ltd" }).ToUrl("/api/v1/tenants"));
        Assert.Equal(201, created.Context.Response.StatusCode);
        var answer = created.ReadAsJson<JsonElement>();
        Assert.Equal("acme", answer.GetProperty("tenant").GetProperty("id").GetString());
        var acmeKey = answer.GetProperty("adminKey").GetProperty("key").GetString()!;
        Assert.Equal(["admin"], answer.GetProperty("adminKey").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));

        // The new tenant's admin saves a recipe and runs it; the demo tenant sees none of it.
        var saved = await As(acmeKey, s => s.Put.Json(new
        {
            name = "Echo", trigger = new { type = "api" }, steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        }).ToUrl("/api/v1/recipes/echo"));
        Assert.Equal(201, saved.Context.Response.StatusCode);
        var run = await As(acmeKey, s => s.Post.Json(new { n = 1 }).ToUrl("/api/v1/recipes/echo/runs"));
        Assert.Equal(202, run.Context.Response.StatusCode);
        var runId = run.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        await Eventually.Get(async () => (await As(acmeKey, s => s.Get.Url($"/api/v1/runs/{runId}"))).ReadAsJson<RunSummary>()!,
            r => r.Status == RunStatus.Succeeded);
        Assert.Equal(404, (await Api.Scenario(s => { s.Get.Url($"/api/v1/runs/{runId}"); s.IgnoreStatusCode(); })).Context.Response.StatusCode);

        var list = await As(AppFixture.OperatorKey, s => s.Get.Url("/api/v1/tenants"));
        Assert.Contains("acme", list.ReadAsJson<JsonElement>().GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetString()));
        var again = await As(AppFixture.OperatorKey, s => s.Post.Json(new { id = "acme", name = "Acme again" }).ToUrl("/api/v1/tenants"));
        Assert.Equal(409, again.Context.Response.StatusCode);
        Assert.Equal("/problems/tenant-exists", Type(again));
        // The tenant implied by the bootstrap key exists although its record was cleaned away.
        Assert.Equal(409, (await As(AppFixture.OperatorKey, s => s.Post.Json(new { id = "demo", name = "Demo" }).ToUrl("/api/v1/tenants"))).Context.Response.StatusCode);
        Assert.Equal(422, (await As(AppFixture.OperatorKey, s => s.Post.Json(new { id = "../x", name = "" }).ToUrl("/api/v1/tenants"))).Context.Response.StatusCode);
    }

    [Fact]
    public async Task the_operator_manages_tenants_and_nothing_inside_them_and_no_admin_manages_tenants()
    {
        Assert.Equal(403, (await As(AppFixture.OperatorKey, s => s.Get.Url("/api/v1/runs"))).Context.Response.StatusCode);
        Assert.Equal(403, (await As(AppFixture.OperatorKey, s => s.Get.Url("/api/v1/api-keys"))).Context.Response.StatusCode);
        var byAdmin = await As(AppFixture.AdminKey, s => s.Post.Json(new { id = "rogue", name = "Rogue" }).ToUrl("/api/v1/tenants"));
        Assert.Equal(403, byAdmin.Context.Response.StatusCode);
        Assert.Equal(403, (await As(AppFixture.AdminKey, s => s.Get.Url("/api/v1/tenants"))).Context.Response.StatusCode);
        // A tenant key cannot be given the operator's scope.
        var escalated = await As(AppFixture.AdminKey, s => s.Post.Json(new { name = "op", scopes = new[] { "platform:operator" } }).ToUrl("/api/v1/api-keys"));
        Assert.Equal(422, escalated.Context.Response.StatusCode);
    }

    [Fact]
    public async Task a_disabled_tenants_keys_and_deliveries_are_refused_until_it_is_enabled()
    {
        var acmeKey = (await As(AppFixture.OperatorKey, s => s.Post.Json(new { id = "paused", name = "Paused Ltd" }).ToUrl("/api/v1/tenants")))
            .ReadAsJson<JsonElement>().GetProperty("adminKey").GetProperty("key").GetString()!;
        await As(acmeKey, s => s.Put.Json(new
        {
            name = "Hooked", trigger = new { type = "webhook" }, steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        }).ToUrl("/api/v1/recipes/hooked"));
        var hook = (await As(acmeKey, s => s.Get.Url("/api/v1/recipes/hooked/webhook"))).ReadAsJson<JsonElement>();
        var path = new Uri(hook.GetProperty("url").GetString()!).AbsolutePath;
        var secret = hook.GetProperty("secret").GetString()!;

        var disabled = await As(AppFixture.OperatorKey, s => s.Post.Url("/api/v1/tenants/paused/disable"));
        Assert.Equal(200, disabled.Context.Response.StatusCode);
        Assert.True(disabled.ReadAsJson<JsonElement>().TryGetProperty("disabledAt", out var at) && at.ValueKind == JsonValueKind.String);

        var refused = await As(acmeKey, s => s.Get.Url("/api/v1/runs"));
        Assert.Equal(403, refused.Context.Response.StatusCode);
        Assert.Equal("/problems/tenant-disabled", Type(refused));
        var delivery = await Deliver(path, secret, "msg_1");
        Assert.Equal(403, delivery.Context.Response.StatusCode);
        Assert.Equal("/problems/tenant-disabled", Type(delivery));

        Assert.Equal(200, (await As(AppFixture.OperatorKey, s => s.Post.Url("/api/v1/tenants/paused/enable"))).Context.Response.StatusCode);
        Assert.Equal(200, (await As(acmeKey, s => s.Get.Url("/api/v1/runs"))).Context.Response.StatusCode);
        Assert.Equal(202, (await Deliver(path, secret, "msg_2")).Context.Response.StatusCode);
        // The refused delivery is on the tenant's record.
        var inbound = await As(acmeKey, s => s.Get.Url("/api/v1/inbound?verdict=rejected"));
        Assert.Contains(inbound.ReadAsJson<JsonElement>().GetProperty("items").EnumerateArray(), r => r.GetProperty("status").GetInt32() == 403);
    }

    private Task<IScenarioResult> Deliver(string path, string secret, string id)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        const string body = """{"type":"x"}""";
        return Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("webhook-id", id);
            s.WithRequestHeader("webhook-timestamp", ts.ToString());
            s.WithRequestHeader("webhook-signature", StandardWebhookSigner.Sign(secret, id, ts, body));
            s.IgnoreStatusCode();
        });
    }
}
