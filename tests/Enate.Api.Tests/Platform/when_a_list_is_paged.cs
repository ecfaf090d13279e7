using System.Text.Json;
using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Platform;

/// Every list that can grow pages with `limit` and an opaque `cursor`: recipes, connections and a run's events as
/// runs and inbound requests do.
public sealed class when_a_list_is_paged(AppFixture app) : AppTest(app)
{
    /// Every page of a list, following nextCursor, as a client does.
    private async Task<List<List<JsonElement>>> Pages(string path, int limit)
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            var page = await Api.GetAsJson<JsonElement>($"{path}?limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            pages.Add(page.GetProperty("items").EnumerateArray().ToList());
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null && pages.Count < 20);
        return pages;
    }

    [Fact]
    public async Task recipes_and_connections_come_in_pages_by_name()
    {
        foreach (var key in new[] { "e", "a", "d", "b", "c" })
        {
            await Api.PutEchoRecipe($"paged-{key}");
            await Api.PutConnection($"paged-{key}", "https://crm.example");
        }

        var recipes = await Pages("/api/v1/recipes", 2);
        Assert.Equal([2, 2, 1], recipes.Select(p => p.Count));
        Assert.Equal(["paged-a", "paged-b", "paged-c", "paged-d", "paged-e"], recipes.SelectMany(p => p).Select(r => r.GetProperty("key").GetString()));
        var connections = await Pages("/api/v1/connections", 3);
        Assert.Equal([3, 2], connections.Select(p => p.Count));
        Assert.Equal(["paged-a", "paged-b", "paged-c", "paged-d", "paged-e"], connections.SelectMany(p => p).Select(c => c.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task keys_subscriptions_and_tenants_come_in_pages_in_the_order_made()
    {
        foreach (var name in new[] { "k1", "k2", "k3" })
            await Api.Scenario(s =>
            {
                s.Post.Json(new { name, scopes = new[] { "runs:read" } }).ToUrl("/api/v1/api-keys");
                s.StatusCodeShouldBe(201);
            });
        var keys = await Pages("/api/v1/api-keys", 2);
        Assert.Equal([2, 2], keys.Select(p => p.Count));
        Assert.Equal(["bootstrap", "k1", "k2", "k3"], keys.SelectMany(p => p).Select(k => k.GetProperty("name").GetString()));

        await using var enate = await Enate.Testing.TestPartner.StartAsync();
        await Api.PutConnection("enate", enate.BaseUrl, new { type = "bearer", token = "enate-token" }, kind: "enate");
        var made = new List<string>();
        foreach (var webhook in new[] { "PacketCreated", "PacketUpdated", "NewCommunication" })
        {
            enate.Then(201, """{"GUID":"6a1f0c3e-0000-4000-8000-000000000001"}""");
            var created = await Api.Scenario(s =>
            {
                s.Post.Json(new { connection = "enate", webhook }).ToUrl("/api/v1/enate/subscriptions");
                s.StatusCodeShouldBe(201);
            });
            made.Add(created.ReadAsJson<JsonElement>().GetProperty("id").GetString()!);
        }
        var subscriptions = await Pages("/api/v1/enate/subscriptions", 2);
        Assert.Equal([2, 1], subscriptions.Select(p => p.Count));
        Assert.Equal(made, subscriptions.SelectMany(p => p).Select(s => s.GetProperty("id").GetString()!));

        foreach (var id in new[] { "t-c", "t-a", "t-b" })
            await Api.Scenario(s =>
            {
                s.Post.Json(new { id, name = id }).ToUrl("/api/v1/tenants");
                s.WithRequestHeader("Authorization", $"Bearer {AppFixture.OperatorKey}");
                s.StatusCodeShouldBe(201);
            });
        var tenants = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Api.Scenario(s =>
            {
                s.Get.Url("/api/v1/tenants?limit=2" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
                s.WithRequestHeader("Authorization", $"Bearer {AppFixture.OperatorKey}");
                s.StatusCodeShouldBeOk();
            });
            var json = page.ReadAsJson<JsonElement>();
            tenants.AddRange(json.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("id").GetString()!));
            cursor = json.GetProperty("nextCursor").GetString();
        } while (cursor is not null);
        Assert.Equal(["t-a", "t-b", "t-c"], tenants.Where(t => t.StartsWith("t-")));
    }

    [Fact]
    public async Task a_runs_events_come_in_pages_in_their_order()
    {
        await Api.PutRecipe("steps", new
        {
            name = "Steps",
            trigger = new { type = "api" },
            steps = Enumerable.Range(1, 4).Select(i => (object)new { id = $"s{i}", type = "transform", select = "input" }).ToArray(),
        });
        var runId = await Api.RequestRun("steps", new { n = 1 });
        await Api.WaitForRun(runId, RunStatus.Succeeded);

        var all = (await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}/events?limit=500")).GetProperty("items").EnumerateArray().ToList();
        Assert.True(all.Count >= 6, $"{all.Count} events");
        var pages = await Pages($"/api/v1/runs/{runId}/events", 2);
        Assert.All(pages.SkipLast(1), p => Assert.Equal(2, p.Count));
        Assert.Equal(all.Select(e => e.GetProperty("version").GetInt64()), pages.SelectMany(p => p).Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal("RunRequested", pages[0][0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task a_cursor_of_another_list_or_a_limit_out_of_range_is_refused()
    {
        await Api.PutEchoRecipe("paged");
        var runId = await Api.RequestRun("paged", new { n = 1 });
        var runCursor = Enate.Api.Runs.ListRunsEndpoint.WriteCursor(runId);

        foreach (var path in new[] { "/api/v1/recipes", "/api/v1/connections", $"/api/v1/runs/{runId}/events" })
        {
            var wrong = await Api.Scenario(s =>
            {
                s.Get.Url($"{path}?cursor={Uri.EscapeDataString(runCursor)}");
                s.StatusCodeShouldBe(400);
                s.ContentTypeShouldBe("application/problem+json");
            });
            Assert.Equal("/problems/invalid-cursor", wrong.ReadAsJson<JsonElement>().GetProperty("type").GetString());
            await Api.Scenario(s =>
            {
                s.Get.Url($"{path}?limit=501");
                s.StatusCodeShouldBe(422);
            });
        }
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/runs/{Guid.CreateVersion7()}/events");
            s.StatusCodeShouldBe(404);
        });
    }
}
