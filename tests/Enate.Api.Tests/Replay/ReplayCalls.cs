using System.Net;
using System.Text.Json;
using Alba;

namespace Enate.Api.Tests.Replay;

/// Calls the replay tests make often.
public static class ReplayCalls
{
    public static async Task<(int Status, JsonElement Body, string? Location)> Post(this IAlbaHost api, string url, object body)
    {
        var result = await api.Scenario(s =>
        {
            s.Post.Json(body).ToUrl(url);
            s.IgnoreStatusCode();
        });
        var text = await result.ReadAsTextAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (result.Context.Response.StatusCode, json, result.Context.Response.Headers.Location.ToString());
    }

    public static async Task<Guid> ReplayRun(this IAlbaHost api, Guid runId, object recipeVersion, string reason = "partner fixed")
    {
        var (status, body, _) = await api.Post($"/api/v1/runs/{runId}/replay", new { recipeVersion, reason });
        Assert.Equal((int)HttpStatusCode.Accepted, status);
        return body.GetProperty("runId").GetGuid();
    }

    public static async Task<Guid> StartBulkReplay(this IAlbaHost api, object body)
    {
        var (status, json, location) = await api.Post("/api/v1/replays", body);
        Assert.True(status == (int)HttpStatusCode.Accepted, $"Expected 202, got {status}: {json}");
        var id = json.GetProperty("replayId").GetGuid();
        Assert.Equal($"/api/v1/replays/{id}", location);
        return id;
    }

    public static async Task<JsonElement> Replay(this IAlbaHost api, Guid replayId) =>
        await api.GetAsJson<JsonElement>($"/api/v1/replays/{replayId}");

    public static int Int(this JsonElement json, string name) => json.GetProperty(name).GetInt32();

    public static string Str(this JsonElement json, string name) => json.GetProperty(name).GetString()!;

    /// A recipe whose v1 fails every run (its transform renders invalid JSON) and whose v2 is fixed
    /// and posts to the partner: the "fix the recipe, replay the failures" case.
    public static async Task PutBroken(this IAlbaHost api, string key)
    {
        await api.PutRecipe(key, new
        {
            name = "Broken then fixed",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "shape", type = "transform", template = "{\"n\": {{ input.n }}, \"oops\": }" } },
        });
    }

    public static Task FixRecipe(this IAlbaHost api, string key, string connection) => api.PutRecipe(key, new
    {
        name = "Broken then fixed",
        trigger = new { type = "api" },
        steps = new object[]
        {
            new { id = "shape", type = "transform", template = "{\"n\": {{ input.n }}}" },
            new { id = "post", type = "http", connection, method = "POST", path = "/items", body = "{{ steps.shape | json }}" },
        },
    });
}
