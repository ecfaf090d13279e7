using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;
using Microsoft.Playwright;
using Enate.Api.Tests.Triggers;
using Npgsql;

namespace Enate.Api.Tests.Console;

/// Operators and auditors in a browser: they see only what their key may do, watch runs arrive, read a run as a
/// picture, re-run dead letters in bulk, try a version on past runs, and prove the record.
public sealed class when_people_use_the_console(AppFixture app) : ConsoleTest(app)
{
    private static readonly object CallPartner = new
    {
        id = "post", type = "http", connection = "crm", method = "POST", path = "/deals", body = new { name = "{{ input.name }}" },
    };

    [Fact]
    public async Task a_key_without_replay_write_is_offered_no_re_run_and_the_api_refuses_one_forced_through()
    {
        await Api.PutEchoRecipe("echo");
        var run = await Api.RequestRun("echo", new { name = "a" });
        await Api.WaitForRun(run, RunStatus.Succeeded);

        await Page.GotoAsync("/runs");
        Assert.Contains("/sign-in", Page.Url);
        await Page.GetByLabel("API key").FillAsync("not-a-key");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.GetByText("The platform does not know this key.").WaitForAsync();
        await CheckPageAsync("sign-in");

        await SignInAsync(await App.SeedKeyAsync("demo", Scopes.RunsRead, Scopes.AuditRead));
        await Page.GotoAsync($"/runs/{run}");
        await Page.Locator("svg g.step").First.WaitForAsync();
        Assert.Equal(0, await Page.GetByRole(AriaRole.Button, new() { Name = "Re-run" }).CountAsync());
        await Page.GotoAsync("/failed");
        Assert.Equal(0, await Page.GetByRole(AriaRole.Button, new() { Name = "Re-run all matching" }).CountAsync());

        // Forced: the form posted anyway, with a valid antiforgery token of this session. The API refuses it.
        var token = await Page.Locator("form[action='/session/end'] input[name='__RequestVerificationToken']").GetAttributeAsync("value");
        var forced = await Page.APIRequest.PostAsync($"/runs/{run}/rerun", new APIRequestContextOptions
        {
            Form = Page.APIRequest.CreateFormData().Set("__RequestVerificationToken", token!).Set("version", "original").Set("reason", "forced"),
        });
        Assert.Contains("error=", forced.Url);
        Assert.Contains("Forbidden", WebUtility.UrlDecode(forced.Url));
        var summary = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{run}");
        Assert.Equal(0, summary.GetProperty("replayedBy").GetArrayLength());
    }

    [Fact]
    public async Task a_partner_webhook_appears_in_runs_without_a_reload_and_its_run_is_drawn_step_by_step_with_the_call_status()
    {
        await Api.PutRecipe("deal-hook", new
        {
            name = "Deal hook", trigger = new { type = "webhook" },
            steps = new object[] { new { id = "shape", type = "transform", template = new { name = "{{ input.deal }}" } }, CallPartner },
        });
        var hook = await Api.GetAsJson<JsonElement>("/api/v1/recipes/deal-hook/webhook");
        await SignInAsync(AppFixture.AdminKey);
        await Page.GotoAsync("/runs");
        await Page.EvaluateAsync("window.notReloaded = true");

        var body = """{"deal":"Big"}""";
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var sent = await Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(new Uri(hook.GetProperty("url").GetString()!).AbsolutePath);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.WithRequestHeader("webhook-id", "msg_console");
            s.WithRequestHeader("webhook-timestamp", timestamp.ToString());
            s.WithRequestHeader("webhook-signature", StandardWebhookSigner.Sign(hook.GetProperty("secret").GetString()!, "msg_console", timestamp, body));
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var runId = sent.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        var link = Page.Locator($"a[href='/runs/{runId}']");
        await link.WaitForAsync();
        Assert.True(await Page.EvaluateAsync<bool>("window.notReloaded === true"));
        await CheckPageAsync("runs");

        await Api.WaitForRun(runId, RunStatus.Succeeded);
        await link.ClickAsync();
        await ConsoleTest.ArrivedAtAsync(Page, $"/runs/{runId}$");
        await Page.Locator("svg g.step").First.WaitForAsync();
        Assert.Equal(["shape", "post"], await Page.Locator("svg g.step").EvaluateAllAsync<string[]>("gs => gs.map(g => g.dataset.step)"));
        Assert.Equal("200", (await Page.Locator("svg .call-status").TextContentAsync())?.Trim());
        await Page.GetByText("The request that started it").WaitForAsync();
        await CheckPageAsync("run");

        await Page.GotoAsync("/inbound");
        await Page.Locator($"a[href='/runs/{runId}']").WaitForAsync();
        await CheckPageAsync("inbound");

        // The partner's connection shows the call's success once the Workers have written it.
        await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/connections/crm"),
            c => c.GetProperty("lastSuccessAt").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30));
        await Page.GotoAsync("/connections");
        Assert.NotEmpty(await Page.Locator("tr[data-connection='crm'] .last-success time").InnerTextAsync());
        await CheckPageAsync("connections");
    }

    [Fact]
    public async Task dead_letters_are_re_run_all_matching_the_progress_reaches_100_and_the_partner_sees_each_effect_once()
    {
        await Api.PutRecipe("flaky", new
        {
            name = "Flaky partner", trigger = new { type = "api" }, steps = new[] { CallPartner },
            retry = new { schedule = new[] { "PT0S" }, jitter = 0 },
        });
        Partner.Then(500).Then(500);
        var dead = new List<Guid>();
        for (var i = 0; i < 2; i++)
        {
            dead.Add(await Api.RequestRun("flaky", new { name = $"n{i}" }));
            await Api.WaitForRun(dead[^1], RunStatus.DeadLettered);
        }

        await SignInAsync(AppFixture.AdminKey);
        await Page.GotoAsync("/failed?status=deadLettered&recipe=flaky");
        await CheckPageAsync("failed");
        await Page.GetByLabel("Reason (kept in the audit record)").FillAsync("partner fixed");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Re-run all matching (2)" }).ClickAsync();
        await ConsoleTest.ArrivedAtAsync(Page, "/replays/[^/]+$");
        await Page.Locator("#progress-panel [data-done='true']").WaitForAsync();
        Assert.Equal("100 %", (await Page.Locator("#progress-panel .percent").InnerTextAsync()).Trim());
        await CheckPageAsync("replay");

        foreach (var id in dead)
        {
            var original = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{id}");
            var again = original.GetProperty("replayedBy").EnumerateArray().Single().GetGuid();
            await Api.WaitForRun(again, RunStatus.Succeeded);
        }
        Assert.Equal(2, Partner.SuccessesByKey.Count);
        Assert.All(Partner.SuccessesByKey.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task a_what_if_of_a_changed_template_shows_the_changed_field_for_each_past_run()
    {
        var v1 = new { name = "Deal", trigger = new { type = "api" }, steps = new[] { CallPartner } };
        await Api.PutRecipe("deal", v1);
        for (var i = 0; i < 2; i++) await Api.WaitForRun(await Api.RequestRun("deal", new { name = $"n{i}" }), RunStatus.Succeeded);
        await Api.PutRecipe("deal", new
        {
            name = "Deal", trigger = new { type = "api" },
            steps = new[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals", body = new { name = "Mr {{ input.name }}" } } },
        });

        await SignInAsync(AppFixture.AdminKey);
        await Page.GotoAsync("/recipes/deal");
        await CheckPageAsync("recipe");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Compare with past runs" }).ClickAsync();
        await ConsoleTest.ArrivedAtAsync(Page, "/what-ifs/[^/]+$");
        await Page.Locator("#what-if [data-done='true']").WaitForAsync();
        var runs = Page.Locator("section.what-if-run");
        Assert.Equal(2, await runs.CountAsync());
        for (var i = 0; i < 2; i++)
            Assert.Contains("name", await runs.Nth(i).Locator(".changed-field").First.InnerTextAsync());
        await CheckPageAsync("what-if");
    }

    [Fact]
    public async Task audit_verify_says_ok_and_after_an_event_is_altered_names_it()
    {
        await Api.PutEchoRecipe("audited");
        var run = await Api.RequestRun("audited", new { amount = 1 });
        await Api.WaitForRun(run, RunStatus.Succeeded);
        await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/audit/verify"), v => v.GetProperty("unchained").GetInt64() == 0, TimeSpan.FromSeconds(30));

        await SignInAsync(AppFixture.AdminKey);
        await Page.GotoAsync("/audit");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        await Page.GetByText("ok: the record verifies").WaitForAsync();
        await CheckPageAsync("audit");

        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var find = new NpgsqlCommand($"select seq_id from {Enate.Domain.EnateStore.Schema}.mt_events where stream_id = @s and version = 2", connection);
        find.Parameters.AddWithValue("s", run);
        var seq = (long)(await find.ExecuteScalarAsync())!;
        await using (var alter = new NpgsqlCommand(
                         $"update {Enate.Domain.EnateStore.Schema}.mt_events set data = jsonb_set(data, '{{worker}}', '\"someone-else\"') where seq_id = {seq}", connection))
            await alter.ExecuteNonQueryAsync();

        await Page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
        var mismatch = Page.Locator(".mismatch");
        await mismatch.WaitForAsync();
        var text = await mismatch.InnerTextAsync();
        Assert.Contains($"event {seq}", text);
        Assert.Contains("changed after it was recorded", text);
        Assert.Contains(run.ToString(), text);
    }

    [Fact]
    public async Task the_other_pages_are_usable_and_accessible()
    {
        await Api.PutEchoRecipe("echo");
        await SignInAsync(AppFixture.AdminKey);
        foreach (var (path, name) in new[] { ("/recipes", "recipes"), ("/keys", "keys") })
        {
            await Page.GotoAsync(path);
            await CheckPageAsync(name);
        }
        // A key made here is shown once, and works.
        await Page.GetByLabel("Name").FillAsync("reader");
        await Page.GetByLabel("runs:read").CheckAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        var shown = (await Page.Locator(".shown code").InnerTextAsync()).Trim();
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs");
            s.WithRequestHeader("Authorization", $"Bearer {shown}");
            s.StatusCodeShouldBeOk();
        });
        await Page.ReloadAsync();
        Assert.Equal(0, await Page.Locator(".shown").CountAsync());
    }
}
