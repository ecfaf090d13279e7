using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Replay;

public sealed class when_a_run_is_replayed(AppFixture app) : PartnerTest(app)
{
    private Task PutOrders(string field) => Api.PutRecipe("orders", new
    {
        name = "Orders",
        trigger = new { type = "api" },
        steps = new object[]
        {
            new { id = "post", type = "http", connection = "crm", method = "POST", path = "/orders", body = $"{{\"{field}\": {{{{ input.n }}}}}}" },
        },
    });

    [Fact]
    public async Task a_failed_run_is_re_run_from_its_input_and_both_streams_record_the_link()
    {
        await PutOrders("n");
        Partner.Then(400, "{\"error\":\"down for maintenance\"}");
        var oldId = await Api.RequestRun("orders", new { n = 41 });
        await Api.WaitForRun(oldId, RunStatus.Failed);

        var (status, body, location) = await Api.Post($"/api/v1/runs/{oldId}/replay", new { recipeVersion = "original", reason = "partner fixed" });
        Assert.Equal((int)HttpStatusCode.Accepted, status);
        var newId = body.GetProperty("runId").GetGuid();
        Assert.Equal($"/api/v1/runs/{newId}", location);

        var replayed = await Api.WaitForRun(newId, RunStatus.Succeeded);
        Assert.Equal(oldId, replayed.ReplayOf);
        Assert.Equal(1, replayed.RecipeVersion);
        var old = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!;
        Assert.Equal([newId], old.ReplayedBy);
        Assert.Equal(RunStatus.Failed, old.Status);

        var link = (await Api.Events(oldId)).Last();
        Assert.Equal("RunReplayed", link.GetProperty("type").GetString());
        Assert.Equal(newId, link.GetProperty("data").GetProperty("newRunId").GetGuid());
        Assert.Equal("partner fixed", link.GetProperty("data").Str("reason"));
        Assert.StartsWith("bootstrap", link.GetProperty("data").Str("requestedBy"));

        var requested = (await Api.Events(newId)).First().GetProperty("data");
        Assert.Equal(oldId, requested.GetProperty("replayOf").GetGuid());
        Assert.StartsWith("bootstrap", requested.Str("requestedBy"));
        Assert.Equal("replay", requested.Str("trigger"));

        // The same recorded input reached the partner again.
        Assert.Equal(2, Partner.Requests.Count);
        Assert.All(Partner.Requests, r => Assert.Equal("{\"n\":41}", r.Body));
    }

    [Fact]
    public async Task latest_runs_the_current_version_and_a_number_that_version()
    {
        await PutOrders("n");
        var oldId = await Api.RequestRun("orders", new { n = 1 });
        await Api.WaitForRun(oldId, RunStatus.Succeeded);
        await PutOrders("quantity");

        var latest = await Api.WaitForRun(await Api.ReplayRun(oldId, "latest"), RunStatus.Succeeded);
        var first = await Api.WaitForRun(await Api.ReplayRun(oldId, 1), RunStatus.Succeeded);
        var original = await Api.WaitForRun(await Api.ReplayRun(oldId, "original"), RunStatus.Succeeded);

        Assert.Equal(2, latest.RecipeVersion);
        Assert.Equal(1, first.RecipeVersion);
        Assert.Equal(1, original.RecipeVersion);
        Assert.Equal(["{\"n\":1}", "{\"quantity\":1}", "{\"n\":1}", "{\"n\":1}"], Partner.Requests.Select(r => r.Body));
        var old = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!;
        Assert.Equal([latest.Id, first.Id, original.Id], old.ReplayedBy);
    }

    [Fact]
    public async Task bad_requests_are_refused_and_leave_no_trace()
    {
        await PutOrders("n");
        var oldId = await Api.RequestRun("orders", new { n = 1 });
        await Api.WaitForRun(oldId, RunStatus.Succeeded);
        var url = $"/api/v1/runs/{oldId}/replay";

        Assert.Equal(404, (await Api.Post($"/api/v1/runs/{Guid.CreateVersion7()}/replay", new { recipeVersion = "original", reason = "x" })).Status);
        foreach (var version in new object[] { "newest", 0, -1, 7, 1.5, true })
        {
            var (status, body, _) = await Api.Post(url, new { recipeVersion = version, reason = "x" });
            Assert.Equal(422, status);
            Assert.Equal("$.recipeVersion", body.GetProperty("errors")[0].Str("path"));
        }
        var missingReason = await Api.Post(url, new { recipeVersion = "original" });
        Assert.Equal(422, missingReason.Status);
        Assert.Equal("$.reason", missingReason.Body.GetProperty("errors")[0].Str("path"));
        Assert.Equal(422, (await Api.Post(url, new { recipeVersion = "original", reason = "  " })).Status);
        Assert.Equal(422, (await Api.Post(url, new { reason = "no version" })).Status);

        var old = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!;
        Assert.Empty(old.ReplayedBy);
        Assert.DoesNotContain("RunReplayed", (await Api.Events(oldId)).Types());
    }

    [Fact]
    public async Task a_run_still_waiting_for_a_retry_is_not_re_run()
    {
        await Api.PutRecipe("slow", new
        {
            name = "Slow",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/x", body = "{}" } },
            retry = new { schedule = new[] { "0", "600" }, jitter = 0 },
        });
        Partner.Then(503);
        var runId = await Api.RequestRun("slow", new { });
        await Api.WaitForRun(runId, RunStatus.Waiting);

        var (status, body, _) = await Api.Post($"/api/v1/runs/{runId}/replay", new { recipeVersion = "original", reason = "impatient" });
        Assert.Equal(409, status);
        Assert.EndsWith("/run-not-finished", body.Str("type"));
    }
}
