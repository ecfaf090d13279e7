using System.Net;
using System.Text.Json;
using Alba;
using Enate.Api.Tests.Replay;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Runs;

/// Failures that used to leave a run requested or waiting for good, or answered 500: each now ends the run (or the
/// request) clearly, through the platform as clients use it.
public sealed class when_every_run_must_end(AppFixture app) : AppTest(app)
{
    private TestPartner _partner = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
    }

    public override async Task DisposeAsync() => await _partner.DisposeAsync();

    private async Task PutOAuthNote()
    {
        await Api.PutConnection("enate", _partner.BaseUrl, new
        {
            type = "oauth2ClientCredentials", tokenUrl = _partner.BaseUrl + "/oauth/token", clientId = "platform", clientSecret = "wrong-secret",
        }, kind: "enate");
        await Api.PutRecipe("note", new
        {
            name = "Note", trigger = new { type = "api" },
            steps = new object[] { new { id = "note", type = "enate", connection = "enate", operation = "addNote", args = new { guid = "p-1", note = "hi" } } },
        });
    }

    [Theory]
    [InlineData(200, "<html>not a token</html>", "not JSON")]
    [InlineData(200, """{"token_type":"Bearer"}""", "no access_token")]
    [InlineData(401, """{"error":"invalid_client"}""", "answered 401")]
    [InlineData(400, """{"error":"invalid_client"}""", "answered 400")]
    public async Task a_token_endpoint_that_gives_no_token_fails_the_run_at_once(int status, string answer, string reason)
    {
        await PutOAuthNote();
        _partner.Then(status, answer);

        var runId = await Api.RequestRun("note", new { });

        var run = await Api.WaitForRun(runId, RunStatus.Failed);
        Assert.Contains(reason, run.Reason);
        Assert.Equal(1, run.Attempts);
        Assert.Equal(["/oauth/token"], _partner.Requests.Select(r => r.Path));
    }

    [Theory]
    [InlineData("""["PT0S", "P9000Y"]""")]
    [InlineData("""["P30000Y"]""")]
    [InlineData("""["1e308"]""")]
    public async Task a_retry_schedule_that_overflows_is_refused_when_saved(string schedule)
    {
        var result = await Api.Scenario(s =>
        {
            s.Put.Text("""{"name":"x","trigger":{"type":"api"},"steps":[{"id":"x","type":"transform","select":"input"}],"retry":{"schedule":""" + schedule + "}}")
                .ToUrl("/api/v1/recipes/overflow");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(422);
        });
        Assert.StartsWith("$.retry.schedule[", result.ReadAsJson<JsonElement>().GetProperty("errors")[0].GetProperty("path").GetString());
    }

    [Fact]
    public async Task a_callback_that_needs_a_retry_leaves_the_run_succeeded_and_it_can_be_re_run()
    {
        await Api.PutConnection("enate", _partner.BaseUrl, new { type = "bearer", token = "enate-token" }, kind: "enate");
        await Api.PutRecipe("with-callback", new
        {
            name = "Action with callback", trigger = new { type = "enateAction" },
            steps = new object[] { new { id = "shape", type = "transform", template = """{"ok": true}""" } },
            callback = new { mode = "callEnate", connection = "enate" },
            retry = new { schedule = new[] { "0", "0.2", "0.2" }, jitter = 0 },
        });
        _partner.Then(503).Then(503);
        var result = await Api.Scenario(s =>
        {
            s.Post.Text(JsonSerializer.Serialize(new { Action = new[] { new { Reference = "1-A" } }, CallBackURL = _partner.BaseUrl + "/callback/1" }))
                .ToUrl("/api/v1/enate/actions/with-callback");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var runId = result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();

        var run = await Eventually.Get(async () => (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}"))!, r => r.Callback == "sent (success)");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(3, _partner.Requests.Count);
        Assert.Equal(2, (await Api.Events(runId)).Types().Count(t => t == "RetryScheduled"));
        var rerun = await Api.ReplayRun(runId, "original");
        await Api.WaitForRun(rerun, RunStatus.Succeeded);
    }

    [Fact]
    public async Task a_dry_run_of_an_xlsx_transform_over_text_that_is_not_base64_shows_the_failure()
    {
        await Api.PutRecipe("sheet", new
        {
            name = "Sheet", trigger = new { type = "api" },
            steps = new object[] { new { id = "read", type = "transform", select = "input.file", from = "xlsx" } },
        });

        var (status, body, _) = await Api.Post("/api/v1/recipes/sheet/dry-run", new { input = new { file = "not base64 at all!" } });

        Assert.Equal(200, status);
        Assert.Equal("failed", body.GetProperty("outcome").GetString());
        Assert.Contains("not base64", body.GetProperty("steps")[0].GetProperty("error").GetString());
    }

    [Fact]
    public async Task what_if_of_the_same_version_over_runs_dead_lettered_after_server_errors_changes_nothing()
    {
        await Api.PutConnection("crm", _partner.BaseUrl);
        await Api.PutRecipe("flaky", new
        {
            name = "Flaky partner", trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals", body = "{{ input | json }}" } },
            retry = new { schedule = new[] { "0", "0.1" }, jitter = 0 },
        });
        for (var i = 0; i < 4; i++) _partner.Then(503);
        var runs = new[] { await Api.RequestRun("flaky", new { n = 1 }), await Api.RequestRun("flaky", new { n = 2 }) };
        foreach (var id in runs) await Api.WaitForRun(id, RunStatus.DeadLettered);

        var (status, result, _) = await Api.Post("/api/v1/recipes/flaky/versions/1/what-if", new { filter = new { } });

        Assert.Equal(200, status);
        Assert.Equal(0, result.GetProperty("summary").GetProperty("changed").GetInt32());
        Assert.All(result.GetProperty("runs").EnumerateArray(), run => Assert.Equal("deadLettered", run.GetProperty("outcome").GetString()));
    }
}
