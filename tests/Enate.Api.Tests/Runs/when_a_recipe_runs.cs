using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Runs;

public sealed class when_a_recipe_runs(AppFixture app) : AppTest(app)
{
    private TestPartner _partner = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        await Api.PutConnection("crm", _partner.BaseUrl, new { type = "bearer", token = "tok_SECRET_777" });
    }

    public override async Task DisposeAsync() => await _partner.DisposeAsync();

    private Task PutPipeline(string key, object? retry = null) => Api.PutRecipe(key, new
    {
        name = "Deal to onboarding",
        trigger = new { type = "api" },
        workItem = "caseRef",
        steps = new object[]
        {
            new { id = "only_big", type = "filter", condition = "input.amount > `100`" },
            new { id = "shape", type = "transform", template = "{\"dealName\": \"{{ input.name }}\", \"amount\": {{ input.amount }}}" },
            new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals/{{ input.id }}/onboarding", body = "{{ steps.shape | json }}" },
        },
        retry = retry ?? new { schedule = new[] { "0", "0.2", "0.2" }, jitter = 0 },
    });

    [Fact]
    public async Task every_step_is_recorded_and_the_partner_gets_the_transformed_call()
    {
        await PutPipeline("pipeline");
        var runId = await Api.RequestRun("pipeline", new { id = 7, name = "Acme", amount = 500, caseRef = "202234-C" });

        var run = await Api.WaitForRun(runId, RunStatus.Succeeded);
        Assert.Equal("202234-C", run.WorkItem);

        var received = Assert.Single(_partner.Requests);
        Assert.Equal("/deals/7/onboarding", received.Path);
        Assert.Equal("Acme", JsonDocument.Parse(received.Body).RootElement.GetProperty("dealName").GetString());
        Assert.Equal($"{runId}:post", received.Headers["Idempotency-Key"]);
        Assert.Equal("Bearer tok_SECRET_777", received.Headers["Authorization"]);

        var events = await Api.Events(runId);
        Assert.Equal(
            ["RunRequested", "RunStarted", "StepCompleted", "StepCompleted", "OutboundRequestSent", "OutboundResponseReceived",
             "StepCompleted", "RunSucceeded"],
            events.Types());
        var sent = events.Single(e => e.GetProperty("type").GetString() == "OutboundRequestSent").GetProperty("data");
        Assert.Equal("***", sent.GetProperty("headers").GetProperty("Authorization").GetString());
        Assert.DoesNotContain("tok_SECRET_777", JsonSerializer.Serialize(events));
    }

    /// Pure steps need no commit of their own: a run's filter, transform and call are one transaction (the call's
    /// outcome with them). A second call waits until the first one's outcome is committed: a worker that dies during
    /// it must not make the first call again.
    [Fact]
    public async Task its_pure_steps_share_a_commit_with_a_call_and_each_calls_outcome_is_committed_before_the_next_call()
    {
        await PutPipeline("pipeline");
        var single = await Api.RequestRun("pipeline", new { id = 11, name = "One", amount = 500 });
        await Api.WaitForRun(single, RunStatus.Succeeded);
        Assert.Equal(
        [
            ["run_requested"],
            ["run_started", "step_completed", "step_completed", "outbound_request_sent", "outbound_response_received", "step_completed",
             "run_succeeded"],
        ], await CommitsAsync(single));

        await Api.PutRecipe("two-calls", new
        {
            name = "Two calls",
            trigger = new { type = "api" },
            steps = new object[]
            {
                new { id = "first", type = "http", connection = "crm", method = "POST", path = "/first", body = "{}" },
                new { id = "shape", type = "transform", template = "{\"n\": {{ input.n }}}" },
                new { id = "second", type = "http", connection = "crm", method = "POST", path = "/second", body = "{{ steps.shape | json }}" },
            },
        });
        var two = await Api.RequestRun("two-calls", new { n = 2 });
        await Api.WaitForRun(two, RunStatus.Succeeded);
        Assert.Equal(
        [
            ["run_requested"],
            ["run_started", "outbound_request_sent", "outbound_response_received", "step_completed", "step_completed"],
            ["outbound_request_sent", "outbound_response_received", "step_completed", "run_succeeded"],
        ], await CommitsAsync(two));
        Assert.Equal(["/first", "/second"], _partner.Requests.Select(r => r.Path).Where(p => p is "/first" or "/second"));

        // The summary the last commit wrote holds what the earlier pass recorded too: it is what the events build.
        await using var read = App.Store.QuerySession("demo");
        var stored = await read.LoadAsync<RunSummary>(two);
        var built = await read.Events.AggregateStreamAsync<RunSummary>(two);
        Assert.NotNull(stored!.StartedAt);
        Assert.Equal(JsonSerializer.Serialize(built), JsonSerializer.Serialize(stored));
    }

    /// The run's events in order, grouped by the transaction that appended them (PostgreSQL's xmin of each row).
    private async Task<List<List<string>>> CommitsAsync(Guid runId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"select xmin::text, type from {Enate.Domain.EnateStore.Schema}.mt_events where stream_id = @id order by version", connection);
        command.Parameters.AddWithValue("id", runId);
        var commits = new List<List<string>>();
        string? last = null;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (reader.GetString(0) != last) commits.Add([]);
            last = reader.GetString(0);
            commits[^1].Add(reader.GetString(1));
        }
        return commits;
    }

    [Fact]
    public async Task a_false_filter_skips_the_run_without_calling_anyone()
    {
        await PutPipeline("pipeline");
        var runId = await Api.RequestRun("pipeline", new { id = 7, name = "Small", amount = 5 });
        await Api.WaitForRun(runId, RunStatus.Skipped);
        Assert.Empty(_partner.Requests);
    }

    [Fact]
    public async Task a_transient_failure_is_retried_and_the_succeeded_step_is_never_repeated()
    {
        _partner.Then(503, "{}", headers: new Dictionary<string, string> { ["Retry-After"] = "0" }).Then(500);
        await PutPipeline("pipeline");
        var runId = await Api.RequestRun("pipeline", new { id = 8, name = "Retry", amount = 900 });

        var run = await Api.WaitForRun(runId, RunStatus.Succeeded);
        Assert.Equal(3, run.Attempts);
        Assert.Equal(3, _partner.Requests.Count);
        Assert.Equal(1, _partner.SuccessesFor($"{runId}:post"));
        var types = (await Api.Events(runId)).Types();
        Assert.Equal(2, types.Count(t => t == "RetryScheduled"));
        Assert.Equal(3, types.Count(t => t == "OutboundRequestSent"));
        Assert.Equal(3, types.Count(t => t == "StepCompleted"));
    }

    [Fact]
    public async Task a_permanent_failure_fails_the_run_at_once()
    {
        _partner.Then(400, "{\"error\":\"bad deal\"}");
        await PutPipeline("pipeline");
        var runId = await Api.RequestRun("pipeline", new { id = 9, name = "Bad", amount = 900 });
        var run = await Api.WaitForRun(runId, RunStatus.Failed);
        Assert.Contains("post", run.Reason);
        Assert.Single(_partner.Requests);
    }

    [Fact]
    public async Task transient_failures_outlasting_the_schedule_dead_letter_the_run()
    {
        _partner.Then(503).Then(503).Then(503);
        await PutPipeline("pipeline");
        var runId = await Api.RequestRun("pipeline", new { id = 10, name = "Down", amount = 900 });
        var run = await Api.WaitForRun(runId, RunStatus.DeadLettered);
        Assert.Equal(3, _partner.Requests.Count);
        Assert.Contains("3 time(s)", run.Reason);
    }

    [Fact]
    public async Task a_transform_error_names_the_step_the_expression_and_the_position()
    {
        await Api.PutRecipe("selecting", new
        {
            name = "Select",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "pick", type = "transform", template = "{\"x\": {{ input.items | json }}, \"y\": }" } },
        });
        var runId = await Api.RequestRun("selecting", new { items = new[] { 1, 2 } });
        var run = await Api.WaitForRun(runId, RunStatus.Failed);
        Assert.Contains("pick", run.Reason);
        Assert.Matches("(position|line|column)", run.Reason);
    }

    [Fact]
    public async Task a_dry_run_shows_the_request_it_would_send_and_records_nothing()
    {
        // The Workers may still be finishing an earlier test's runs of this recipe: count only what this test could start.
        var since = DateTimeOffset.UtcNow;
        await PutPipeline("pipeline");
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { input = new { id = 3, name = "Dry", amount = 300 } }).ToUrl("/api/v1/recipes/pipeline/dry-run");
            s.StatusCodeShouldBeOk();
        });
        var dry = result.ReadAsJson<JsonElement>();
        var post = dry.GetProperty("steps")[2];
        Assert.Equal("wouldSend", post.GetProperty("outcome").GetString());
        Assert.EndsWith("/deals/3/onboarding", post.GetProperty("request").GetProperty("url").GetString());
        Assert.Equal("***", post.GetProperty("request").GetProperty("headers").GetProperty("Authorization").GetString());
        Assert.Empty(_partner.Requests);

        var runs = await Api.GetAsJson<JsonElement>($"/api/v1/runs?from={Uri.EscapeDataString(since.ToString("O"))}");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }
}
