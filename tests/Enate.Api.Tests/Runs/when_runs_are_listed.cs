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
