extern alias workers;

using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Replay;

public sealed class when_runs_are_replayed_in_bulk(AppFixture app) : AppTest(app)
{
    private TestPartner _partner = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        await Api.PutConnection("erp", _partner.BaseUrl);
    }

    public override async Task DisposeAsync() => await _partner.DisposeAsync();

    /// Runs of v1 that all fail, then v2 that works and calls the partner, each call taking a while.
    private async Task<List<Guid>> FailedRuns(int count, TimeSpan partnerDelay)
    {
        await Api.PutBroken("items");
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++) ids.Add(await Api.RequestRun("items", new { n = i }));
        foreach (var id in ids) await Api.WaitForRun(id, RunStatus.Failed);
        await Api.FixRecipe("items", "erp");
        for (var i = 0; i < count; i++) _partner.Then(200, "{\"ok\":true}", partnerDelay);
        return ids;
    }

    [Fact]
    public async Task twenty_failed_runs_are_re_run_within_the_in_flight_limit_and_progress_is_reported()
    {
        var failed = await FailedRuns(20, TimeSpan.FromMilliseconds(150));
        // A run of another status is not selected by status=failed.
        await Api.PutEchoRecipe("other");
        await Api.WaitForRun(await Api.RequestRun("other", new { }), RunStatus.Succeeded);

        var replayId = await Api.StartBulkReplay(new
        {
            filter = new { recipe = "items", status = "failed" },
            recipeVersion = "latest",
            reason = "v2 fixes the template",
            concurrency = 5,
        });

        var seen = new List<JsonElement>();
        var done = await Eventually.Get(async () =>
        {
            var view = await Api.Replay(replayId);
            seen.Add(view);
            return view;
        }, v => v.Str("status") == "completed", TimeSpan.FromMinutes(2));

        Assert.Equal(20, done.Int("total"));
        Assert.Equal(20, done.Int("started"));
        Assert.Equal(20, done.Int("succeeded"));
        Assert.Equal(0, done.Int("failed"));
        Assert.Equal(0, done.Int("inFlight"));
        Assert.All(seen, v => Assert.InRange(v.Int("inFlight"), 0, 5));
        Assert.All(seen, v => Assert.InRange(v.Int("started"), 0, 20));
        // Progress was visible on the way, not only at the end.
        Assert.Contains(seen, v => v.Int("started") is > 0 and < 20);

        foreach (var oldId in failed)
        {
            var old = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!;
            var newId = Assert.Single(old.ReplayedBy);
            var replayed = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{newId}"))!;
            Assert.Equal(oldId, replayed.ReplayOf);
            Assert.Equal(2, replayed.RecipeVersion);
            Assert.Equal(RunStatus.Succeeded, replayed.Status);
            var link = (await Api.Events(oldId)).Last().GetProperty("data");
            Assert.Equal(replayId, link.GetProperty("bulkReplayId").GetGuid());
        }
        Assert.Equal(20, _partner.Requests.Count);

        // The job is over: cancelling it is a conflict.
        var (status, _, _) = await Api.Post($"/api/v1/replays/{replayId}/cancel", new { });
        Assert.Equal((int)HttpStatusCode.Conflict, status);
    }

    [Fact]
    public async Task cancelling_stops_new_re_runs_and_lets_those_in_flight_finish()
    {
        await FailedRuns(24, TimeSpan.FromMilliseconds(400));
        var replayId = await Api.StartBulkReplay(new
        {
            filter = new { recipe = "items" },
            recipeVersion = "latest",
            reason = "try the cancel",
            concurrency = 2,
        });
        await Eventually.Get(() => Api.Replay(replayId), v => v.Int("started") >= 1, TimeSpan.FromMinutes(1));

        var (status, cancelled, _) = await Api.Post($"/api/v1/replays/{replayId}/cancel", new { });
        Assert.Equal(200, status);
        Assert.Equal("cancelled", cancelled.Str("status"));

        var drained = await Eventually.Get(() => Api.Replay(replayId), v => v.Int("inFlight") == 0, TimeSpan.FromMinutes(1));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var later = await Api.Replay(replayId);
        Assert.Equal("cancelled", later.Str("status"));
        Assert.Equal(drained.Int("started"), later.Int("started"));
        Assert.InRange(later.Int("started"), 1, 23);
        Assert.Equal(later.Int("started"), later.Int("succeeded"));
        Assert.Equal(later.Int("started"), _partner.Requests.Count);

        // Cancelling again changes nothing.
        var again = await Api.Post($"/api/v1/replays/{replayId}/cancel", new { });
        Assert.Equal(200, again.Status);
        Assert.Equal(later.Int("started"), again.Body.Int("started"));
    }

    [Fact]
    public async Task a_job_whose_step_cannot_go_on_ends_failed_and_says_why()
    {
        // A job whose selection of runs is gone: its step fails for good, goes to the dead letters, and the job says so
        // instead of staying "running" with nothing to move it on.
        var job = new Enate.Domain.Replays.BulkReplay { Id = Guid.CreateVersion7(), Reason = "no selection", Total = 1, Concurrency = 10 };
        await using (var setup = App.Store.LightweightSession("demo"))
        {
            setup.Insert(job);
            await setup.SaveChangesAsync();
        }
        await App.Workers.Services.GetRequiredService<Wolverine.IMessageBus>().PublishAsync(
            new Enate.Domain.Replays.AdvanceReplay(job.Id, "demo"), new Wolverine.DeliveryOptions { TenantId = "demo" });

        var view = await Eventually.Get(() => Api.GetAsJson<JsonElement>($"/api/v1/replays/{job.Id}"),
            v => v.GetProperty("status").GetString() != "running", TimeSpan.FromSeconds(30));
        Assert.Equal("failed", view.GetProperty("status").GetString());
        Assert.Contains("failed through every retry", view.GetProperty("failure").GetString());
        Assert.True(view.TryGetProperty("finishedAt", out var finished) && finished.ValueKind == JsonValueKind.String);
        await Api.Scenario(s =>
        {
            s.Post.Url($"/api/v1/replays/{job.Id}/cancel");
            s.StatusCodeShouldBe(HttpStatusCode.Conflict);
        });
    }

    [Fact]
    public async Task two_deliveries_of_one_step_cannot_both_save_the_job()
    {
        var job = new Enate.Domain.Replays.BulkReplay { Id = Guid.CreateVersion7(), Reason = "race", Total = 1 };
        await using (var setup = App.Store.LightweightSession("*DEFAULT*"))
        {
            setup.Insert(job);
            await setup.SaveChangesAsync();
        }
        await using var first = App.Store.LightweightSession("*DEFAULT*");
        await using var second = App.Store.LightweightSession("*DEFAULT*");
        var a = (await first.LoadAsync<Enate.Domain.Replays.BulkReplay>(job.Id))!;
        var b = (await second.LoadAsync<Enate.Domain.Replays.BulkReplay>(job.Id))!;
        a.Cursor = 1;
        first.Store(a);
        await first.SaveChangesAsync();
        b.Cursor = 1;
        second.Store(b);
        await Assert.ThrowsAsync<JasperFx.ConcurrencyException>(() => second.SaveChangesAsync());
    }

    [Fact]
    public async Task the_runs_a_step_starts_are_queued_only_if_its_save_commits()
    {
        var failed = await FailedRuns(2, TimeSpan.Zero);
        var job = new Enate.Domain.Replays.BulkReplay
        {
            Id = Guid.CreateVersion7(), Reason = "race", RecipeVersion = "latest", Total = 2, Concurrency = 2,
        };
        await using (var setup = App.Store.LightweightSession("demo"))
        {
            setup.Insert(job);
            setup.Insert(new Enate.Domain.Replays.ReplaySelection { Id = job.Id, RunIds = failed });
            await setup.SaveChangesAsync();
        }

        // Two deliveries of the job's first step, both read before either saves: each starts both runs.
        var services = App.Workers.Services;
        var runtime = services.GetRequiredService<Wolverine.Runtime.IWolverineRuntime>();
        var clock = services.GetRequiredService<TimeProvider>();
        var step = new Enate.Domain.Replays.AdvanceReplay(job.Id, "demo");
        await using var first = App.Store.LightweightSession("demo");
        await using var second = App.Store.LightweightSession("demo");
        await workers::Enate.Workers.Replays.AdvanceReplayHandler.Handle(step, first, new Wolverine.TestMessageContext(), runtime, clock, default);
        await workers::Enate.Workers.Replays.AdvanceReplayHandler.Handle(step, second, new Wolverine.TestMessageContext(), runtime, clock, default);
        await first.SaveChangesAsync();
        await Assert.ThrowsAsync<JasperFx.ConcurrencyException>(() => second.SaveChangesAsync());

        // The saved step's runs, and only they, are recorded, queued once each and run.
        await using var query = App.Store.QuerySession("demo");
        var saved = (await query.LoadAsync<Enate.Domain.Replays.BulkReplay>(job.Id))!;
        Assert.Equal(2, saved.InFlight.Count);
        foreach (var id in saved.InFlight) await Api.WaitForRun(id, RunStatus.Succeeded);
        var replays = new List<Guid>();
        foreach (var oldId in failed) replays.AddRange((await Api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!.ReplayedBy);
        Assert.Equal(saved.InFlight.Order(), replays.Order());
        Assert.Equal(2, await MessagesNaming(saved.InFlight));
        Assert.Equal(2, _partner.Requests.Count);
    }

    /// How many messages, in the replay queue or already taken into a Workers' inbox, name one of these runs.
    private async Task<long> MessagesNaming(IEnumerable<Guid> runIds)
    {
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand(
            $"select (select count(*) from {Enate.Domain.EnateStore.ReplayQueueTable} q, unnest(@ids) i where position(convert_to(i, 'UTF8') in q.body) > 0) " +
            $"+ (select count(*) from {Enate.Domain.EnateStore.WolverineSchema}.wolverine_incoming_envelopes e, unnest(@ids) i where position(convert_to(i, 'UTF8') in e.body) > 0)",
            connection);
        count.Parameters.AddWithValue("ids", runIds.Select(id => id.ToString()).ToArray());
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task bad_requests_are_refused()
    {
        await Api.PutEchoRecipe("echo");
        async Task Expect(int expected, object body, string? path = null)
        {
            var (status, json, _) = await Api.Post("/api/v1/replays", body);
            Assert.True(expected == status, $"Expected {expected}, got {status}: {json}");
            if (path is not null) Assert.Contains(json.GetProperty("errors").EnumerateArray(), e => e.Str("path") == path);
        }

        await Expect(422, new { filter = new { }, recipeVersion = "original", reason = "all" }, "$.filter");
        await Expect(422, new { recipeVersion = "original", reason = "all" }, "$.filter");
        await Expect(422, new { filter = new { recipe = "echo", status = "running" }, recipeVersion = "original", reason = "x" }, "$.filter.status");
        await Expect(422, new { filter = new { recipe = "echo" }, recipeVersion = "newest", reason = "x" }, "$.recipeVersion");
        await Expect(422, new { filter = new { recipe = "echo" }, recipeVersion = 5, reason = "x" }, "$.recipeVersion");
        await Expect(422, new { filter = new { status = "failed" }, recipeVersion = 1, reason = "x" }, "$.recipeVersion");
        await Expect(422, new { filter = new { recipe = "echo" }, recipeVersion = "latest" }, "$.reason");
        await Expect(422, new { filter = new { recipe = "echo" }, recipeVersion = "latest", reason = "x", concurrency = 501 }, "$.concurrency");
        await Expect(404, new { filter = new { recipe = "nope" }, recipeVersion = "latest", reason = "x" });
        Assert.Equal(404, (await Api.Post($"/api/v1/replays/{Guid.CreateVersion7()}/cancel", new { })).Status);
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/replays/{Guid.CreateVersion7()}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }
}
