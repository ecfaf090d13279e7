using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;

namespace Enate.Api.Tests.Replay;

public sealed class when_a_run_is_replayed_or_read_as_it_was(AppFixture app) : AppTest(app)
{
    private static object Definition(string greeting) => new
    {
        name = "Greeter",
        trigger = new { type = "api" },
        steps = new object[] { new { id = "greet", type = "transform", template = "{\"text\": \"" + greeting + " {{ input.name }}\"}" } },
    };

    [Fact]
    public async Task the_new_run_uses_the_recorded_input_on_the_version_asked_and_both_streams_record_the_link()
    {
        await Api.PutRecipe("greeter", Definition("hello"));
        var original = await Api.RequestRun("greeter", new { name = "Ada" });
        await Api.WaitForRun(original, RunStatus.Succeeded);
        await Api.PutRecipe("greeter", Definition("bonjour"));

        var onLatest = await Replay(original, "latest", HttpStatusCode.Accepted);
        var onOriginal = await Replay(original, "original", HttpStatusCode.Accepted);
        var latest = await Api.WaitForRun(onLatest, RunStatus.Succeeded);
        var same = await Api.WaitForRun(onOriginal, RunStatus.Succeeded);

        Assert.Equal("bonjour Ada", latest.Output!.Value.GetProperty("text").GetString());
        Assert.Equal(2, latest.RecipeVersion);
        Assert.Equal("hello Ada", same.Output!.Value.GetProperty("text").GetString());
        Assert.Equal(original, latest.ReplayOf);

        var old = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{original}"))!;
        Assert.Equal([onLatest, onOriginal], old.ReplayedBy);
        var replays = (await Api.Events(original)).Where(e => e.GetProperty("type").GetString() == "RunReplayed").ToList();
        Assert.Equal(2, replays.Count);
        var replayed = replays[0].GetProperty("data");
        Assert.Equal("the partner fixed its API", replayed.GetProperty("reason").GetString());
        Assert.Contains("bootstrap", replayed.GetProperty("requestedBy").GetString());
    }

    [Theory]
    [InlineData("""{"recipeVersion": 9, "reason": "x"}""")]
    [InlineData("""{"recipeVersion": "newest", "reason": "x"}""")]
    [InlineData("""{"recipeVersion": "latest"}""")]
    public async Task a_bad_version_or_no_reason_is_422_and_nothing_starts(string body)
    {
        await Api.PutRecipe("greeter", Definition("hello"));
        var original = await Api.RequestRun("greeter", new { name = "Ada" });
        await Api.WaitForRun(original, RunStatus.Succeeded);
        await Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl($"/api/v1/runs/{original}/replay");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
        });
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=greeter");
        Assert.Equal(1, runs.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task replaying_needs_the_replay_scope_and_an_unknown_run_is_404()
    {
        var reader = await App.SeedKeyAsync("demo", Scopes.RunsRead, Scopes.RunsTrigger);
        await Api.Scenario(s =>
        {
            s.Post.Json(new { recipeVersion = "original", reason = "x" }).ToUrl($"/api/v1/runs/{Guid.NewGuid()}/replay");
            s.WithRequestHeader("Authorization", $"Bearer {reader}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
        await Replay(Guid.NewGuid(), "original", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task a_run_and_a_recipe_can_be_read_as_they_were()
    {
        await Api.PutRecipe("greeter", Definition("hello"));
        var runId = await Api.RequestRun("greeter", new { name = "Ada" });
        var done = await Api.WaitForRun(runId, RunStatus.Succeeded);
        await Task.Delay(50);
        var between = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        await Api.PutRecipe("greeter", Definition("bonjour"));

        var first = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}?version=1"))!;
        Assert.Equal(RunStatus.Requested, first.Status);
        Assert.Null(first.Output);
        var final = (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}?asOf={Uri.EscapeDataString(between.ToString("O"))}"))!;
        Assert.Equal(RunStatus.Succeeded, final.Status);
        Assert.Equal(done.Output!.Value.GetRawText(), final.Output!.Value.GetRawText());
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/runs/{runId}?asOf={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"))}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });

        var then = await Api.GetAsJson<JsonElement>($"/api/v1/recipes/greeter?asOf={Uri.EscapeDataString(between.ToString("O"))}");
        Assert.Equal(1, then.GetProperty("latestVersion").GetInt32());
        Assert.Contains("hello", then.GetProperty("definition").ToString());
        var now = await Api.GetAsJson<JsonElement>("/api/v1/recipes/greeter");
        Assert.Equal(2, now.GetProperty("latestVersion").GetInt32());
    }

    private async Task<Guid> Replay(Guid run, string version, HttpStatusCode expected)
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { recipeVersion = version, reason = "the partner fixed its API" }).ToUrl($"/api/v1/runs/{run}/replay");
            s.StatusCodeShouldBe(expected);
        });
        return expected == HttpStatusCode.Accepted ? result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid() : Guid.Empty;
    }
}
