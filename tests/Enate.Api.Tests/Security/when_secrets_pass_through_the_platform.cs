using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Enate.Api.Tests.Triggers;
using Enate.Domain.Runs;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Security;

/// Runs every pattern with recognisable secrets in every place a secret can be (connection credentials of each
/// kind, an API key, a webhook signing secret, Enate's custom header), then searches the whole database (both
/// schemas, every table, every column), everything the API and Workers logged, and every read answer.
public sealed class when_secrets_pass_through_the_platform(AppFixture app) : AppTest(app)
{
    private const string Bearer = "SEKRET-bearer-A1b2";
    private const string ApiKeyValue = "SEKRET-apikey-B2c3";
    private const string Password = "SEKRET-basic-C3d4";
    private const string EnateToken = "SEKRET-enate-D4e5";

    [Fact]
    public async Task none_is_found_in_the_store_the_logs_or_the_answers()
    {
        await using var crm = await TestPartner.StartAsync();
        await using var hr = await TestPartner.StartAsync();
        await using var portal = await TestPartner.StartAsync();
        await using var enate = await TestPartner.StartAsync();
        enate.Then(201, """{"GUID":"6a1f0c3e-0000-4000-8000-000000000002"}""");
        await Api.PutConnection("crm", crm.BaseUrl, new { type = "bearer", token = Bearer });
        // A header name that says nothing of a credential: the connection's own name for it is what marks it.
        await Api.PutConnection("hr", hr.BaseUrl, new { type = "apiKey", header = "X-Partner-Auth", value = ApiKeyValue });
        // Partners that echo what they were sent, under the same name and under others.
        hr.Then(200, "{}", headers: new Dictionary<string, string> { ["X-Partner-Auth"] = ApiKeyValue, ["X-Echo"] = "seen " + ApiKeyValue });
        crm.Then(200, "{}", headers: new Dictionary<string, string> { ["X-Echo"] = $"Bearer {Bearer}" });
        await Api.PutConnection("portal", portal.BaseUrl, new { type = "basic", username = "platform", password = Password });
        await Api.PutConnection("enate", enate.BaseUrl, new { type = "bearer", token = EnateToken }, kind: "enate");

        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "secret-test", scopes = new[] { "runs:trigger" } }).ToUrl("/api/v1/api-keys");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var apiKey = created.ReadAsJson<JsonElement>().GetProperty("key").GetString()!;

        // Pattern 1 (with callback) and the plain API trigger.
        await Api.PutRecipe("p1", new
        {
            name = "P1", trigger = new { type = "enateAction" },
            steps = new object[] { new { id = "get", type = "http", connection = "crm", method = "GET", path = "/deals/1" } },
            callback = new { mode = "callEnate", connection = "enate" },
        });
        var p1 = await Api.Scenario(s =>
        {
            s.Post.Text(JsonSerializer.Serialize(new { Action = new[] { new { GUID = Guid.NewGuid() } }, CallBackURL = enate.BaseUrl + "/cb" }))
                .ToUrl("/api/v1/enate/actions/p1");
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", $"Bearer {apiKey}");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var p1Run = p1.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();

        // Pattern 2: a signed partner webhook, then a call with an API-key connection.
        await Api.PutRecipe("p2", new
        {
            name = "P2", trigger = new { type = "webhook" },
            steps = new object[] { new { id = "post", type = "http", connection = "hr", method = "POST", path = "/users", body = "{{ input | json }}" } },
        });
        var hook = await Api.GetAsJson<JsonElement>("/api/v1/recipes/p2/webhook");
        var hookSecret = hook.GetProperty("secret").GetString()!;
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var p2 = await Api.Scenario(s =>
        {
            s.Post.Text("{}").ToUrl(new Uri(hook.GetProperty("url").GetString()!).AbsolutePath);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.WithRequestHeader("webhook-id", "msg_secret");
            s.WithRequestHeader("webhook-timestamp", ts.ToString());
            s.WithRequestHeader("webhook-signature", StandardWebhookSigner.Sign(hookSecret, "msg_secret", ts, "{}"));
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var p2Run = p2.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();

        // Pattern 3: an Enate subscription and delivery, then a call with basic auth.
        await Api.PutRecipe("p3", new
        {
            name = "P3", trigger = new { type = "enateWebhook", webhook = "NewCommunication" },
            steps = new object[] { new { id = "post", type = "http", connection = "portal", method = "POST", path = "/messages", body = "{{ input.Data | json }}" } },
        });
        var subscription = await Api.Scenario(s =>
        {
            s.Post.Json(new { connection = "enate", webhook = "NewCommunication" }).ToUrl("/api/v1/enate/subscriptions");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var headerSecret = JsonDocument.Parse(enate.Requests.Single(r => r.Path.EndsWith("WebHookSubscription")).Body).RootElement.GetProperty("CustomHeaderValue").GetString()!;
        var p3 = await Api.Scenario(s =>
        {
            s.Post.Text("""{"Webhook":"NewCommunication","Data":{"PacketGUID":"0f8fad5b-d9cb-469f-a165-70867728950e","Subject":"Hi"}}""")
                .ToUrl(new Uri(subscription.ReadAsJson<JsonElement>().GetProperty("url").GetString()!).AbsolutePath);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.WithRequestHeader("X-Enate-Platform-Secret", headerSecret);
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var p3Run = p3.ReadAsJson<JsonElement>().GetProperty("runIds")[0].GetGuid();

        foreach (var run in new[] { p1Run, p2Run, p3Run }) await Api.WaitForRun(run, RunStatus.Succeeded);
        await Eventually.Get(async () => (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{p1Run}"))!, r => r.Callback is not null);
        // The partners did receive them: the secrets were really used.
        Assert.Contains(crm.Requests, r => r.Headers["Authorization"] == $"Bearer {Bearer}");
        Assert.Contains(hr.Requests, r => r.Headers["X-Partner-Auth"] == ApiKeyValue);

        string[] secrets = [Bearer, ApiKeyValue, Password, EnateToken, apiKey, hookSecret, headerSecret,
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"platform:{Password}"))];

        var database = await DumpDatabaseAsync();
        var logs = string.Join("\n", App.Logs.Lines);
        var answers = new StringBuilder();
        foreach (var url in new[]
                 {
                     "/api/v1/connections", "/api/v1/connections/crm", "/api/v1/connections/hr", "/api/v1/connections/portal",
                     "/api/v1/recipes", "/api/v1/runs", "/api/v1/inbound", "/api/v1/api-keys", "/api/v1/enate/subscriptions",
                     $"/api/v1/runs/{p1Run}", $"/api/v1/runs/{p1Run}/events", $"/api/v1/runs/{p2Run}/events", $"/api/v1/runs/{p3Run}/events",
                     "/api/v1/audit/export",
                 })
        {
            answers.AppendLine(await Api.GetAsText(url));
        }

        foreach (var secret in secrets)
        {
            Assert.False(database.Contains(secret), $"secret {secret[..10]}… found in the database");
            Assert.False(logs.Contains(secret), $"secret {secret[..10]}… found in the logs");
            Assert.False(answers.ToString().Contains(secret), $"secret {secret[..10]}… found in an API answer");
        }
        // The search does see what is recorded in the clear: the webhook id, a run id in a Wolverine message body.
        Assert.Contains("msg_secret", database);
        Assert.Contains(p1Run.ToString(), database);
        Assert.True(App.Logs.Lines.Count > 10, "the logs must have had something to search");
    }

    private async Task<string> DumpDatabaseAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "select table_schema || '.' || table_name from information_schema.tables where table_schema in ('enate', 'wolverine') and table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var dump = new StringBuilder();
        foreach (var table in tables)
        {
            await using var rows = new NpgsqlCommand($"select t::text from {table} t", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync()) dump.AppendLine(reader.GetString(0));
        }
        // Wolverine keeps message bodies as bytes (shown as hex above): decode them as text too.
        var byteColumns = new List<string>();
        await using (var list = new NpgsqlCommand(
            "select table_schema || '.' || table_name || ':' || column_name from information_schema.columns where table_schema in ('enate', 'wolverine') and data_type = 'bytea'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) byteColumns.Add(reader.GetString(0));
        }
        foreach (var (table, column) in byteColumns.Select(c => (c.Split(':')[0], c.Split(':')[1])))
        {
            await using var rows = new NpgsqlCommand($"select {column} from {table} where {column} is not null", connection);
            await using var reader = await rows.ExecuteReaderAsync();
            while (await reader.ReadAsync()) dump.AppendLine(Encoding.UTF8.GetString((byte[])reader[0]));
        }
        return dump.ToString();
    }
}
