using System.Text.Json;
using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Platform;

/// A time in a query is ISO 8601 with any offset a client lives at, or at the ends of what it can say; every route
/// that takes one answers the same for the same moment, and none answers 5xx.
public sealed class when_a_client_gives_a_time(AppFixture app) : AppTest(app)
{
    private static string At(DateTimeOffset moment, TimeSpan offset) => Uri.EscapeDataString(moment.ToOffset(offset).ToString("O"));

    [Fact]
    public async Task any_offset_names_the_same_moment_on_every_route_that_takes_a_time()
    {
        await Api.PutEchoRecipe("times");
        var runId = await Api.RequestRun("times", new { at = 1 });
        var run = await Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromSeconds(60));
        var later = run.RequestedAt.AddMinutes(1);
        var earlier = run.RequestedAt.AddMinutes(-1);

        foreach (var offset in new[] { TimeSpan.Zero, TimeSpan.FromHours(2), TimeSpan.FromHours(-14), TimeSpan.FromHours(14), TimeSpan.FromMinutes(330) })
        {
            var asOf = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}?asOf={At(later, offset)}");
            Assert.Equal(RunStatus.Succeeded, asOf.GetProperty("status").GetString());
            await Api.Scenario(s =>
            {
                s.Get.Url($"/api/v1/runs/{runId}?asOf={At(earlier, offset)}");
                s.StatusCodeShouldBe(404);
            });
            var listed = await Api.GetAsJson<JsonElement>($"/api/v1/runs?recipe=times&from={At(earlier, offset)}&to={At(later, offset)}");
            Assert.Contains(listed.GetProperty("items").EnumerateArray(), r => r.GetProperty("id").GetGuid() == runId);
            await Api.GetAsJson<JsonElement>($"/api/v1/inbound?from={At(earlier, offset)}&to={At(later, offset)}");
            await Api.GetAsJson<JsonElement>($"/api/v1/recipes/times?asOf={At(later, offset)}");
            var verified = await Api.GetAsJson<JsonElement>($"/api/v1/audit/verify?from={At(earlier, offset)}&to={At(later, offset)}");
            // The run's own events lie in the window, chained or about to be.
            Assert.True(verified.GetProperty("checked").GetInt64() + verified.GetProperty("unchained").GetInt64() >= 1);
            await Api.Scenario(s =>
            {
                s.Get.Url($"/api/v1/audit/export?from={At(earlier, offset)}&to={At(later, offset)}");
                s.StatusCodeShouldBeOk();
            });
        }
    }

    [Fact]
    public async Task the_ends_of_time_are_answered_without_a_server_error()
    {
        await Api.PutEchoRecipe("times-ends");
        var runId = await Api.RequestRun("times-ends", new { at = 1 });
        string[] ends = ["9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.9999999+14:00", "0001-01-01T00:00:00-14:00",
            "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59Z"];
        foreach (var end in ends.Select(Uri.EscapeDataString))
        foreach (var url in new[]
                 {
                     $"/api/v1/runs/{runId}?asOf={end}", $"/api/v1/runs?from={end}", $"/api/v1/runs?to={end}", $"/api/v1/inbound?from={end}",
                     $"/api/v1/inbound?to={end}", "/api/v1/recipes/times-ends?asOf=" + end, $"/api/v1/audit/verify?from={end}",
                     $"/api/v1/audit/verify?to={end}", $"/api/v1/audit/export?from={end}", $"/api/v1/audit/export?to={end}",
                 })
        {
            var result = await Api.Scenario(s =>
            {
                s.Get.Url(url);
                s.IgnoreStatusCode();
            });
            Assert.True(result.Context.Response.StatusCode < 500, $"{result.Context.Response.StatusCode} for {url}: {await result.ReadAsTextAsync()}");
        }
    }
}
