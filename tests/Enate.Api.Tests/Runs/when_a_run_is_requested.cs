using System.Net;
using System.Text.Json;
using Alba;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Runs;

public sealed class when_a_run_is_requested(AppFixture app) : AppTest(app)
{
    /// A run starts when the commit that queues it lands, not at the Workers' next poll: the commit notifies their
    /// listeners on the channel, and with the payload, that Wolverine's own senders use — a bulk replay's message goes
    /// through Wolverine, so its notification is the reference.
    [Fact]
    public async Task the_commit_that_queues_it_wakes_the_workers_as_wolverine_itself_would()
    {
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var heard = System.Threading.Channels.Channel.CreateUnbounded<string>();
        connection.Notification += (_, e) => heard.Writer.TryWrite(e.Payload);
        await using (var listen = new Npgsql.NpgsqlCommand("listen wolverine_queue_wakeup", connection))
            await listen.ExecuteNonQueryAsync();

        await Api.PutEchoRecipe("echo");
        var runId = await Api.RequestRun("echo", new { n = 1 });
        var fromGroupCommit = await NextAsync();
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        await Enate.Api.Tests.Replay.ReplayCalls.StartBulkReplay(Api,
            new { filter = new { recipe = "echo" }, recipeVersion = "latest", reason = "the wake-up's reference", concurrency = 1 });
        var fromWolverine = await NextAsync();

        // Wolverine names the queue it woke (a bulk replay's steps have their own): the API's wake-up names the run queue
        // the same way.
        Assert.Equal(Enate.Domain.EnateStore.RunQueueTable, fromGroupCommit);
        Assert.Equal($"{Enate.Domain.EnateStore.QueueSchema}.wolverine_queue_{Enate.Domain.EnateStore.ReplayJobQueue}", fromWolverine);

        async Task<string> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            string? payload;
            while (!heard.Reader.TryRead(out payload)) await connection.WaitAsync(timeout.Token);
            return payload;
        }
    }

    /// A commit whose answer is lost on the way back (the connection broke after the server committed) is retried, and the
    /// retry meets its own streams: the request was recorded, and is answered so, once, never as "nothing was recorded".
    [Fact]
    public async Task a_commit_retried_after_its_answer_was_lost_is_answered_recorded()
    {
        var commits = App.Api.Services.GetRequiredService<GroupCommit>();
        var id = Guid.CreateVersion7();
        var copy = new Enate.Api.Triggers.InboundCopy("api", "lost-answer", "POST", "/lost-answer", new Dictionary<string, string>(),
            "{}"u8.ToArray(), "application/json", DateTimeOffset.UtcNow);
        var start = new RunStart("demo", [new NewStream(typeof(Enate.Domain.Inbound.InboundRequest), id,
            [copy.Record(id, Enate.Domain.Inbound.Verdicts.Accepted, 200, null, [])])], [], []);

        await commits.CommitAsync(start, CancellationToken.None);
        await commits.CommitAsync(start, CancellationToken.None);

        await using var session = App.Store.QuerySession("demo");
        Assert.Single(await session.Events.FetchStreamAsync(id));
    }

    [Fact]
    public async Task the_api_accepts_it_and_a_worker_records_the_outcome()
    {
        await Api.PutEchoRecipe("echo");
        var accepted = await Api.Scenario(s =>
        {
            s.Post.Json(new { dealId = 42 }).ToUrl("/api/v1/recipes/echo/runs");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var runId = accepted.ReadAsJson<RunAccepted>()!.RunId;
        Assert.Equal($"/api/v1/runs/{runId}", accepted.Context.Response.Headers.Location.ToString());

        var run = await Eventually.Get(() => Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}"),
            r => r is { Status: RunStatus.Succeeded });
        Assert.NotNull(run);

        Assert.Equal("echo", run!.RecipeKey);
        Assert.Equal(42, run.Input.GetProperty("dealId").GetInt32());
        Assert.Equal(42, run.Output!.Value.GetProperty("dealId").GetInt32());

        // The input shows in the list and at an earlier version too...
        var listed = await Api.GetAsJson<Page<RunSummary>>("/api/v1/runs?recipe=echo");
        Assert.Equal(42, listed!.Items.Single(r => r.Id == runId).Input.GetProperty("dealId").GetInt32());
        var first = await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}?version=1");
        Assert.Equal(42, first!.Input.GetProperty("dealId").GetInt32());
        // ...yet it is written once, in the run's first event: the read model's document keeps no copy.
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var stored = new Npgsql.NpgsqlCommand(
            $"select data ? 'input' from {Enate.Domain.EnateStore.Schema}.mt_doc_runsummary where id = @id", connection);
        stored.Parameters.AddWithValue("id", runId);
        Assert.False((bool)(await stored.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task an_unknown_recipe_is_not_found()
    {
        await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/api/v1/recipes/nope/runs");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
            s.ContentTypeShouldBe("application/problem+json");
        });
    }

    [Fact]
    public async Task an_unknown_run_is_not_found()
    {
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/runs/{Guid.CreateVersion7()}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }
}
