using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Runs;

public sealed class when_runs_are_listed(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task filters_apply_and_the_cursor_pages_through_every_run_once()
    {
        await Api.PutRecipe("listed", new
        {
            name = "Listed",
            trigger = new { type = "api" },
            workItem = "ref",
            steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        });
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add(await Api.RequestRun("listed", new { n = i, @ref = i == 0 ? "202234-C" : "other" }));
        foreach (var id in ids) await Api.WaitForRun(id, RunStatus.Succeeded);

        // The list is built by the Workers' projection, a moment behind the events.
        await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=listed&status=succeeded"),
            page => page.GetProperty("items").GetArrayLength() == 5);

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await Api.GetAsJson<JsonElement>($"/api/v1/runs?recipe=listed&limit=2{(cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);
        Assert.Equal(ids.OrderByDescending(id => id).ToList(), seen);

        var byWorkItem = await Api.GetAsJson<JsonElement>("/api/v1/runs?workItem=202234-C");
        Assert.Equal(ids[0], byWorkItem.GetProperty("items")[0].GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task a_time_window_holds_exactly_the_runs_requested_in_it()
    {
        await Api.PutRecipe("timed", new
        {
            name = "Timed",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        });
        var runs = new List<RunSummary>();
        for (var i = 0; i < 4; i++)
        {
            var id = await Api.RequestRun("timed", new { n = i });
            runs.Add(await Api.WaitForRun(id, RunStatus.Succeeded));
        }

        // From the second run's moment (inclusive) to the fourth's (exclusive), to the tick: bounds inside a
        // millisecond must hold as well as whole ones.
        var from = Uri.EscapeDataString(runs[1].RequestedAt.ToString("O"));
        var to = Uri.EscapeDataString(runs[3].RequestedAt.ToString("O"));
        var page = await Api.GetAsJson<JsonElement>($"/api/v1/runs?recipe=timed&from={from}&to={to}");
        Assert.Equal([runs[2].Id, runs[1].Id], page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));

        // The same window over the inbound record: exactly the records received in it.
        static List<Guid> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()).ToList();
        var all = await Api.GetAsJson<JsonElement>("/api/v1/inbound");
        var expected = all.GetProperty("items").EnumerateArray()
            .Where(r => r.GetProperty("receivedAt").GetDateTimeOffset() is var at && at >= runs[1].RequestedAt && at < runs[3].RequestedAt)
            .Select(r => r.GetProperty("id").GetGuid()).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, Ids(await Api.GetAsJson<JsonElement>($"/api/v1/inbound?from={from}&to={to}")));
    }

    [Theory]
    [InlineData("/api/v1/runs?status=exploded")]
    [InlineData("/api/v1/runs?limit=0")]
    [InlineData("/api/v1/runs?limit=501")]
    public async Task a_bad_filter_is_a_problem_not_an_error(string url)
    {
        await Api.Scenario(s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
            s.ContentTypeShouldBe("application/problem+json");
        });
    }

    [Fact]
    public async Task a_forged_cursor_is_rejected()
    {
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs?cursor=bm90LWEtY3Vyc29y");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });
    }

    [Fact]
    public async Task the_openapi_document_and_reference_are_served()
    {
        var openApi = await Api.Scenario(s => s.Get.Url("/openapi/v1.json"));
        Assert.Contains("/api/v1/recipes/{key}/runs", await openApi.ReadAsTextAsync());
        await Api.Scenario(s => s.Get.Url("/scalar/v1"));
    }
}
