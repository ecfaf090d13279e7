using System.Text.Json;
using System.Text;
using System.Text.RegularExpressions;
using Alba;
using Marten;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Enate.Api.Tests.Security;

/// A few thousand generated malformed requests over every route the API maps (found from its endpoint table,
/// so routes added later are covered too). None may answer 5xx, and none may change recorded state: only
/// records of rejected inbound requests may appear.
public sealed class when_clients_send_garbage_everywhere(AppFixture app, ITestOutputHelper output) : AppTest(app)
{
    private static readonly string[] Bodies =
    [
        "", "{", "[", "nul", "{\"a\":}", "\"unterminated", "{\"name\":1e999999}", "[]", "null", "42", "true", "{}",
        "{\"steps\":{}}", "{\"name\":null,\"trigger\":null,\"steps\":null}", "{\"name\":\"\\ud800\"}", "{\"a\":1,\"a\":2}",
        new string('[', 5000) + new string(']', 5000), "{\"" + new string('k', 5000) + "\":1}", "\u0000\u0001\u0002",
        "{\"name\":\"x\",\"trigger\":{\"type\":\"nope\"},\"steps\":[{\"id\":\"\",\"type\":\"http\"}]}",
        "{\"kind\":\"http\",\"baseUrl\":\"javascript:alert(1)\",\"auth\":{\"type\":\"basic\"}}",
        "{\"input\":{},\"version\":-5}", "{\"scopes\":\"admin\"}", "{\"Action\":\"nope\",\"CallBackURL\":5}",
        "{\"recipeVersion\":{},\"reason\":[]}", "{\"filter\":{\"from\":\"yesterday\",\"limit\":-1}}",
        "{\"name\":\"a\\u0000b\",\"input\":{\"x\":\"\\u0000\"},\"Action\":[{}],\"CallBackURL\":\"http://x/\\u0000\"}",
        "{\"name\":\"\\udc00\\ud800\",\"reason\":\"\\ud800\"}",
    ];

    /// Bodies that are not UTF-8 at all.
    private static readonly byte[][] Bytes =
    [
        [0x7B, 0x22, 0x6E, 0x61, 0x6D, 0x65, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    /// Header values a webhook sender might get wrong, on the anonymous routes.
    private static readonly (string Name, string Value)[] Headers =
    [
        ("webhook-signature", "v1,"), ("webhook-signature", "v1"), ("webhook-signature", "v1,!!!not-base64"), ("webhook-signature", ""),
        ("webhook-signature", "v2,abc v1,"), ("webhook-signature", "v1," + new string('A', 10_000)), ("webhook-signature", ",,,, ,"),
        ("webhook-timestamp", "abc"), ("webhook-timestamp", "-1"), ("webhook-timestamp", "99999999999999999999"), ("webhook-timestamp", "1e5"),
        ("webhook-id", ""), ("webhook-id", new string('i', 5000)), ("X-Enate-Platform-Secret", ""), ("X-Enate-Platform-Secret", new string('s', 5000)),
        ("Authorization", "Bearer"), ("Authorization", "Bearer " + new string('k', 300)), ("Content-Length", "abc"),
    ];

    private static readonly string[] ContentTypes =
        ["application/json", "text/plain", "application/xml", "", "application/json; charset=utf-16", "multipart/form-data", "application/yaml"];

    private static readonly string[] RouteValues =
    [
        "x", "%00", "..%2F..%2Fetc%2Fpasswd", new string('z', 300), "00000000-0000-0000-0000-000000000000", "not-a-guid",
        "-1", "99999999999999999999", "%C3%BC%E6%BC%A2", "%27%3B%20drop%20table%20x%3B--", "fuzz",
    ];

    private static readonly string[] Queries =
    [
        "", "?limit=abc", "?limit=-1", "?from=notadate", "?status=%3Cscript%3E", "?cursor=@@@", "?asOf=tomorrow",
        "?version=x", "?to=9999-99-99", "?verdict=maybe",
    ];

    [Fact]
    public async Task no_answer_is_a_server_error_and_nothing_is_written()
    {
        await Api.PutEchoRecipe("fuzz");
        await Api.PutConnection("fuzz", "http://127.0.0.1:9");
        // A real hook, whose signature checks then meet garbage headers (nothing can be signed, so nothing runs).
        await Api.PutRecipe("fuzz-hook", new
        {
            name = "Fuzz hook", trigger = new { type = "webhook" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        });
        var hook = await Api.GetAsJson<System.Text.Json.JsonElement>("/api/v1/recipes/fuzz-hook/webhook");
        var hookId = new Uri(hook.GetProperty("url").GetString()!).Segments[^1];
        var before = await StateAsync();

        var routes = Api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Method: m, Template: "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .Where(r => r.Template.StartsWith("/api/"))
            // Bodyless commands on a real recipe would legitimately act; their bad input is route values. The rebuild
            // has neither body nor route values: every request to it is a valid one, and starts a rebuild.
            .Where(r => !(r.Method == "POST" && (r.Template.EndsWith("/activate") || r.Template.EndsWith("/deactivate") ||
                                                 r.Template.EndsWith("/rotate-secret") || r.Template.EndsWith("/projections/rebuild"))))
            .Distinct().ToList();
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes found");

        var random = new Random(20261128);
        var failures = new List<string>();
        var sent = 0;
        for (var i = 0; i < 2500; i++)
        {
            var (method, template) = routes[random.Next(routes.Count)];
            var url = (template.Contains("{hookId}") && random.Next(2) == 0 ? template.Replace("{hookId}", hookId) : Fill(template, random, method == "GET"))
                      + Queries[random.Next(Queries.Length)];
            var pick = random.Next(Bodies.Length + Bytes.Length);
            var bytes = pick < Bodies.Length ? Encoding.UTF8.GetBytes(Bodies[pick]) : Bytes[pick - Bodies.Length];
            var body = pick < Bodies.Length ? Bodies[pick] : Convert.ToHexString(bytes);
            var contentType = ContentTypes[random.Next(ContentTypes.Length)];
            var headers = template.Contains("/hooks/") || template.Contains("/enate/webhooks/")
                ? Enumerable.Range(0, random.Next(4)).Select(_ => Headers[random.Next(Headers.Length)]).ToList()
                : [];
            var result = await Api.Scenario(s =>
            {
                s.IgnoreStatusCode();
                s.ConfigureHttpContext(context =>
                {
                    context.Request.Method = method;
                    context.Request.Path = new PathString(url.Split('?')[0]);
                    context.Request.QueryString = url.Contains('?') ? new QueryString("?" + url.Split('?', 2)[1]) : QueryString.Empty;
                    foreach (var (name, value) in headers) context.Request.Headers[name] = value;
                    if (method is "POST" or "PUT" or "PATCH")
                    {
                        context.Request.Body = new MemoryStream(bytes);
                        context.Request.ContentLength = bytes.Length;
                        if (contentType.Length > 0) context.Request.ContentType = contentType;
                    }
                });
            });
            sent++;
            var status = result.Context.Response.StatusCode;
            if (status >= 500) failures.Add($"{status} {method} {url} [{contentType}] {body[..Math.Min(body.Length, 80)]} {string.Join(", ", headers.Select(h => $"{h.Name}: {h.Value[..Math.Min(h.Value.Length, 20)]}"))}");
            else if (result.Context.Response.ContentLength is > 0 && status >= 400 &&
                     result.Context.Response.ContentType?.StartsWith("application/problem+json") != true)
                failures.Add($"{status} without problem+json: {method} {url}");
            else if (status >= 400 && result.Context.Response.ContentType?.StartsWith("application/problem+json") == true &&
                     KnownProblem(await result.ReadAsTextAsync(), status) is { } unknown)
                failures.Add($"{status} {unknown}: {method} {url}");
        }

        output.WriteLine($"{sent} requests over {routes.Count} routes");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct().Take(30)) + "\n" +
            string.Join("\n", App.Logs.Lines.Where(l => (l.StartsWith("Error") || l.StartsWith("Critical")) && !l.Contains("deserialize JSON")).Take(2)));
        Assert.Equal(before, await StateAsync());
    }

    /// Values put in every leaf of a body of an operation's own shape: plausible ones, a NUL, half a surrogate pair, long
    /// text, a template that does not close, and numbers below, at and beyond their range.
    private static readonly (string Text, string Number)[] Leaves =
    [
        ("\"x\"", "1"),
        ("\"\\u0000\"", "-1"),
        ("\"\\ud800\"", "0"),
        ("\"" + new string('x', 5000) + "\"", "2147483648"),
        ("\"{{ \"", "1e400"),
        ("\"\"", "-9223372036854775809"),
    ];

    /// Every operation of the published contract (docs/openapi.json) that takes JSON gets bodies of its own shape, so
    /// the bad values reach the validation behind the parser: none may answer 5xx, and every refusal is a problem of
    /// the catalogue. Route values are ones that exist ("fuzz") or new ids.
    [Fact]
    public async Task bodies_of_each_operations_own_shape_with_bad_values_are_refused_as_problems()
    {
        await Api.PutEchoRecipe("fuzz");
        await Api.PutConnection("fuzz", "http://127.0.0.1:9");
        var spec = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Enate.Testing.WorkerProcess.RepositoryRoot(), "docs", "openapi.json"))).RootElement;
        // A tenant's admin key, and the platform operator's for what only the operator may do (tenants).
        using var admin = Api.Server.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new("Bearer", AppFixture.AdminKey);
        using var @operator = Api.Server.CreateClient();
        @operator.DefaultRequestHeaders.Authorization = new("Bearer", AppFixture.OperatorKey);

        var failures = new List<string>();
        var answers = new SortedDictionary<int, int>();
        foreach (var path in spec.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            if (!operation.Value.TryGetProperty("requestBody", out var requestBody) ||
                !requestBody.GetProperty("content").TryGetProperty("application/json", out var json) ||
                !json.TryGetProperty("schema", out var schema)) continue;
            var url = Regex.Replace(path.Name, "{([^}]+)}", m => m.Groups[1].Value switch
            {
                "version" => "1",
                var name when name.EndsWith("Id") || name == "id" => Guid.NewGuid().ToString(),
                _ => "fuzz",
            });
            foreach (var leaves in Leaves)
            {
                var body = Shaped(spec, schema, leaves, 0);
                async Task<HttpResponseMessage> Send(HttpClient client) => await client.SendAsync(
                    new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url) { Content = new StringContent(body, Encoding.UTF8, "application/json") });
                var response = await Send(admin);
                if (response.StatusCode == System.Net.HttpStatusCode.Forbidden)
                {
                    response.Dispose();
                    response = await Send(@operator);
                }
                using (response)
                {
                    var status = (int)response.StatusCode;
                    answers[status] = answers.GetValueOrDefault(status) + 1;
                    var text = await response.Content.ReadAsStringAsync();
                    var problem = status >= 400 && response.Content.Headers.ContentType?.MediaType == "application/problem+json";
                    if (status >= 500 || status >= 400 && !problem || problem && KnownProblem(text, status) is not null)
                        failures.Add($"{status} {operation.Name.ToUpperInvariant()} {url} {body[..Math.Min(body.Length, 100)]}: {text[..Math.Min(text.Length, 200)]}");
                }
            }
        }
        output.WriteLine($"{answers.Values.Sum()} requests: " + string.Join(", ", answers.Select(a => $"{a.Key} × {a.Value}")));
        Assert.True(answers.Values.Sum() >= 10 * Leaves.Length, "fewer than ten operations were found that take JSON");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
    }

    /// A JSON value of the schema's shape, with the given text and number in its leaves.
    private static string Shaped(JsonElement spec, JsonElement schema, (string Text, string Number) leaves, int depth)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = spec;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/')) schema = schema.GetProperty(part);
        }
        foreach (var union in new[] { "oneOf", "anyOf", "allOf" })
            if (schema.TryGetProperty(union, out var options))
                return Shaped(spec, options.EnumerateArray().First(o => !(o.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "null")), leaves, depth);
        var types = !schema.TryGetProperty("type", out var type) ? []
            : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(x => x.GetString()!).ToList()
            : [type.GetString()!];
        if (depth > 6) return "null";
        if (schema.TryGetProperty("properties", out var properties))
            return "{" + string.Join(",", properties.EnumerateObject().Select(p => JsonSerializer.Serialize(p.Name) + ":" + Shaped(spec, p.Value, leaves, depth + 1))) + "}";
        if (types.Contains("array"))
            return "[" + (schema.TryGetProperty("items", out var items) ? Shaped(spec, items, leaves, depth + 1) : leaves.Text) + "]";
        if (types.Contains("integer") || types.Contains("number")) return leaves.Number;
        if (types.Contains("boolean")) return "true";
        if (types.Contains("string")) return leaves.Text;
        // An object without properties, or any JSON: an object with a text in it.
        return """{"value":""" + leaves.Text + "}";
    }

    /// Null when the problem's type is in the catalogue (docs/problems.md) with this status; otherwise what is wrong.
    private static string? KnownProblem(string body, int status)
    {
        var type = JsonDocument.Parse(body).RootElement.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        var kind = type.StartsWith(Enate.Api.Platform.Problems.TypeBase) ? Enate.Api.Platform.ProblemCatalogue.Find(type[Enate.Api.Platform.Problems.TypeBase.Length..]) : null;
        return kind is null ? $"type '{type}' is not in the catalogue" : kind.Status != status ? $"type '{type}' is listed as {kind.Status}" : null;
    }

    /// Reads may address the real recipe and connection ("fuzz"); writes only ever address what does not exist,
    /// since any JSON is a valid run input and a DELETE of a real thing is a valid request.
    private static string Fill(string template, Random random, bool read)
    {
        var parts = template.Split('/');
        var values = read ? RouteValues : RouteValues[..^1];
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].StartsWith('{')) parts[i] = values[random.Next(values.Length)];
        return string.Join('/', parts);
    }

    /// Every event but inbound records, and every document table but inbound requests and delivery marks.
    private async Task<string> StateAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var summary = new StringBuilder();
        await using (var events = new NpgsqlCommand(
            "select count(*), coalesce(max(seq_id), 0) from enate.mt_events where type <> 'inbound_request_recorded'", connection))
        await using (var reader = await events.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            summary.Append($"events={reader.GetInt64(0)}/{reader.GetInt64(1)};");
        }
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "select table_name from information_schema.tables where table_schema = 'enate' and table_name like 'mt_doc_%' " +
            "and table_name not in ('mt_doc_inboundrequest') order by 1", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        foreach (var table in tables)
        {
            await using var hash = new NpgsqlCommand($"select count(*), coalesce(md5(string_agg(data::text, '' order by id::text)), '') from enate.{table}", connection);
            await using var reader = await hash.ExecuteReaderAsync();
            await reader.ReadAsync();
            summary.Append($"{table}={reader.GetInt64(0)}:{reader.GetString(1)};");
        }
        return summary.ToString();
    }
}
