using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enate.Console.Platform;

/// The API's answer: its status and JSON body (a problem when it refused).
public sealed record Answer(int Status, JsonNode? Body)
{
    public bool Ok => Status is >= 200 and < 300;
    public string Problem => Body?["errors"] is JsonArray errors && errors.Count > 0
        ? $"{Body["title"]} {string.Join(" ", errors.Select(e => $"{e?["path"]}: {e?["message"]}"))}"
        : $"{Body?["title"]} {Body?["detail"]}".Trim();
}

/// The API, called with the signed-in user's key: the console can do only what that key may do, and the API still
/// decides. The console never touches the database.
public sealed class Api(IHttpClientFactory factory, IHttpContextAccessor http, Sessions sessions)
{
    public const string Client = "api";

    public Session? Session => sessions.Find(http.HttpContext?.Request.Cookies[Sessions.Cookie]);

    private HttpRequestMessage Request(HttpMethod method, string path, string? key = null)
    {
        var request = new HttpRequestMessage(method, path);
        if ((key ?? Session?.Key) is { } k) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", k);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    public Task<Answer> GetAsync(string path, CancellationToken ct = default, string? key = null) =>
        SendAsync(Request(HttpMethod.Get, path, key), ct);

    public Task<Answer> PostAsync(string path, object? body, CancellationToken ct = default, string? prefer = null)
    {
        var request = Request(HttpMethod.Post, path);
        if (prefer is not null) request.Headers.Add("Prefer", prefer);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body, JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
        return SendAsync(request, ct);
    }

    public Task<Answer> DeleteAsync(string path, CancellationToken ct = default) => SendAsync(Request(HttpMethod.Delete, path), ct);

    /// An answer streamed as it arrives (the audit export), to be copied to the browser.
    public async Task<HttpResponseMessage> StreamAsync(string path, CancellationToken ct) =>
        await factory.CreateClient(Client).SendAsync(Request(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, ct);

    private async Task<Answer> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await factory.CreateClient(Client).SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonNode? body = null;
        try
        {
            if (text.Length > 0) body = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            body = new JsonObject { ["title"] = text };
        }
        return new Answer((int)response.StatusCode, body);
    }
}
