using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Replay;

public sealed class when_looking_back_in_time(AppFixture app) : AppTest(app)
{
    private static string Q(DateTimeOffset at) => Uri.EscapeDataString(at.ToString("O"));

    private async Task<int> Status(string url) => (await Api.Scenario(s =>
    {
        s.Get.Url(url);
        s.IgnoreStatusCode();
    })).Context.Response.StatusCode;

    [Fact]
    public async Task a_run_at_each_version_is_what_its_summary_said_then_and_the_last_is_the_summary_now()
    {
        await Api.PutEchoRecipe("echo");
        var runId = await Api.RequestRun("echo", new { n = 1 });
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        var replayId = await Api.ReplayRun(runId, "original", "look back");
        await Api.WaitForRun(replayId, RunStatus.Succeeded);

        var events = await Api.Events(runId);
        var now = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}");
        var states = new List<RunSummary>();
        foreach (var e in events)
        {
            states.Add((await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}?version={e.GetProperty("version").GetInt64()}"))!);
        }

        Assert.Equal(RunStatus.Requested, states[0].Status);
        Assert.Equal(RunStatus.Running, states[1].Status);
        Assert.Equal(RunStatus.Succeeded, states[^2].Status);
        Assert.Empty(states[^2].ReplayedBy);
        Assert.Equal([replayId], states[^1].ReplayedBy);
        Assert.Equal(events.Select(e => e.GetProperty("version").GetInt64()), states.Select(s => s.Version));
        // Replayed through the same projection: the last state is the stored summary, field for field, its stream
        // version included (read from the document's revision, where quick appends put it).
        var last = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}?version={events.Count}");
        Assert.Equal(events.Count, last.GetProperty("version").GetInt32());
        Assert.Equal(now.GetRawText(), last.GetRawText());
        var listed = (await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=echo")).GetProperty("items").EnumerateArray()
            .Single(r => r.GetProperty("id").GetGuid() == runId);
        Assert.Equal(now.GetRawText(), listed.GetRawText());

        // As of an event's time: everything recorded up to then (events of one transaction share a time).
        foreach (var e in events)
        {
            var at = e.GetProperty("timestamp").GetDateTimeOffset();
            var expected = events.Last(x => x.GetProperty("timestamp").GetDateTimeOffset() <= at).GetProperty("version").GetInt64();
            var asOf = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}?asOf={Q(at)}"))!;
            Assert.Equal(expected, asOf.Version);
        }

        var requestedAt = events[0].GetProperty("timestamp").GetDateTimeOffset();
        Assert.Equal(404, await Status($"/api/v1/runs/{runId}?asOf={Q(requestedAt.AddMilliseconds(-1))}"));
        Assert.Equal(404, await Status($"/api/v1/runs/{runId}?version={events.Count + 1}"));
        Assert.Equal(404, await Status($"/api/v1/runs/{Guid.CreateVersion7()}?version=1"));
        Assert.Equal(422, await Status($"/api/v1/runs/{runId}?version=0"));
        Assert.Equal(422, await Status($"/api/v1/runs/{runId}?version=1&asOf={Q(requestedAt)}"));
        Assert.Equal(400, await Status($"/api/v1/runs/{runId}?asOf=yesterday"));
        Assert.Equal(400, await Status($"/api/v1/runs/{runId}?version=two"));
    }

    [Fact]
    public async Task a_recipe_as_of_a_time_is_the_version_that_was_latest_then()
    {
        await Api.PutEchoRecipe("echo");
        await Task.Delay(20);
        await Api.PutRecipe("echo", new
        {
            name = "Echo, renamed",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input.n" } },
        });
        var recipe = await Api.GetAsJson<JsonElement>("/api/v1/recipes/echo");
        var versions = recipe.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("createdAt").GetDateTimeOffset()).ToList();

        var atFirst = await Api.GetAsJson<JsonElement>($"/api/v1/recipes/echo?asOf={Q(versions[0])}");
        Assert.Equal(1, atFirst.GetProperty("latestVersion").GetInt32());
        Assert.Equal("Echo", atFirst.GetProperty("definition").GetProperty("name").GetString());
        Assert.Equal(1, atFirst.GetProperty("versions").GetArrayLength());

        var justBeforeSecond = await Api.GetAsJson<JsonElement>($"/api/v1/recipes/echo?asOf={Q(versions[1].AddTicks(-1))}");
        Assert.Equal(1, justBeforeSecond.GetProperty("latestVersion").GetInt32());

        var atSecond = await Api.GetAsJson<JsonElement>($"/api/v1/recipes/echo?asOf={Q(versions[1])}");
        Assert.Equal(2, atSecond.GetProperty("latestVersion").GetInt32());
        Assert.Equal("input.n", atSecond.GetProperty("definition").GetProperty("steps")[0].GetProperty("select").GetString());

        Assert.Equal(404, await Status($"/api/v1/recipes/echo?asOf={Q(versions[0].AddMilliseconds(-1))}"));
        Assert.Equal(404, await Status($"/api/v1/recipes/nope?asOf={Q(versions[0])}"));
        Assert.Equal(400, await Status("/api/v1/recipes/echo?asOf=not-a-time"));
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/echo");
            s.StatusCodeShouldBe(HttpStatusCode.OK);
        });
    }
}
