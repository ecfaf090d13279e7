using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests;

/// The calls tests make often, through the real HTTP endpoints.
public static class ApiCalls
{
    public static async Task<JsonElement> PutRecipe(this IAlbaHost api, string key, object definition, int expectedStatus = 0)
    {
        var result = await api.Scenario(s =>
        {
            s.Put.Json(definition).ToUrl($"/api/v1/recipes/{key}");
            if (expectedStatus != 0) s.StatusCodeShouldBe(expectedStatus);
            else
            {
                s.IgnoreStatusCode();
                s.StatusCodeShouldBeSuccess();
            }
        });
        return result.ReadAsJson<JsonElement>();
    }

    /// A one-step recipe whose output is its input: for tests about runs, not about steps.
    public static Task<JsonElement> PutEchoRecipe(this IAlbaHost api, string key) => api.PutRecipe(key, new
    {
        name = "Echo",
        trigger = new { type = "api" },
        steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
    });

    public static Task PutConnection(this IAlbaHost api, string name, string baseUrl, object? auth = null, string kind = "http",
        int timeoutSeconds = 5) =>
        api.Scenario(s =>
        {
            s.Put.Json(new { kind, baseUrl, auth = auth ?? new { type = "none" }, timeoutSeconds }).ToUrl($"/api/v1/connections/{name}");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });

    public static async Task<Guid> RequestRun(this IAlbaHost api, string key, object input, string? idempotencyKey = null,
        HttpStatusCode expected = HttpStatusCode.Accepted)
    {
        var result = await api.Scenario(s =>
        {
            s.Post.Json(input).ToUrl($"/api/v1/recipes/{key}/runs");
            if (idempotencyKey is not null) s.WithRequestHeader("Idempotency-Key", idempotencyKey);
            s.StatusCodeShouldBe(expected);
        });
        return result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
    }

    public static Task<RunSummary> WaitForRun(this IAlbaHost api, Guid runId, string status, TimeSpan? timeout = null) =>
        Eventually.Get(async () => (await api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}"))!,
            run => run.Status == status || (RunStatus.IsFinished(run.Status) && run.Status != status && Fail(run, status)),
            timeout);

    /// A POST of raw bytes as JSON, as an anonymous caller from an address sends it: the status and the answer.
    public static async Task<(int Status, string Body)> PostBytes(this IAlbaHost api, string path, byte[] body,
        IEnumerable<(string Name, string Value)> headers, System.Net.IPAddress? from = null)
    {
        var result = await api.Scenario(s =>
        {
            s.IgnoreStatusCode();
            s.ConfigureHttpContext(context =>
            {
                context.Request.Method = "POST";
                context.Request.Path = new Microsoft.AspNetCore.Http.PathString(path);
                context.Request.Body = new MemoryStream(body);
                context.Request.ContentLength = body.Length;
                context.Request.ContentType = "application/json";
                if (from is not null) context.Connection.RemoteIpAddress = from;
                foreach (var (name, value) in headers) context.Request.Headers[name] = value;
            });
        });
        return (result.Context.Response.StatusCode, await result.ReadAsTextAsync());
    }

    /// Every event of a run, page after page.
    public static async Task<List<JsonElement>> Events(this IAlbaHost api, Guid runId)
    {
        var events = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}/events" + (cursor is null ? "" : $"?cursor={Uri.EscapeDataString(cursor)}"));
            events.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);
        return events;
    }

    public static List<string> Types(this IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("type").GetString()!).ToList();

    private static bool Fail(RunSummary run, string expected) =>
        throw new Xunit.Sdk.XunitException($"Run {run.Id} ended {run.Status} ({run.Reason}), expected {expected}.");
}
