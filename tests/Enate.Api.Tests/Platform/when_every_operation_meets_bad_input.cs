using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Enate.Testing;

namespace Enate.Api.Tests.Platform;

/// Every operation of the published contract (docs/openapi.json) is sent bad input of every kind a client gets wrong:
/// ids that are no ids, numbers out of range, text the database cannot hold, JSON that is broken, of the wrong shape or
/// nested too deep, and bodies of the operation's own shape filled with such values. None may answer 5xx, and every
/// refusal is problem+json.
public sealed class when_every_operation_meets_bad_input(AppFixture app, Xunit.Abstractions.ITestOutputHelper output) : AppTest(app)
{
    private const string Known = "echo";

    /// Path values: each parameter in turn, the others a value that exists. (A NUL in the path is refused by Kestrel
    /// before the platform sees the request, and the test server cannot send one.)
    private static readonly string[] BadIds = ["not-a-uuid", "00000000-0000-0000-0000-000000000000", new('a', 300), "%ED%A0%80"];
    private static readonly string[] BadNumbers = ["-1", "0", "2147483648", "abc", "1e3"];
    private static readonly string[] BadNames = ["a%2Fb", new('k', 300), "%C3%BC", "%ED%A0%80", "..", "%20", "a%0Ab"];
    /// Query values.
    private static readonly string[] BadQueries =
        ["abc", "-1", "0", "99999999999999999999", "", "2026-13-45T99:00:00Z", "%00", new('q', 500), "!!!", "%ED%A0%80", "a%0Ab"];
    /// Bodies whatever the operation takes.
    private static readonly string[] BadBodies =
        ["{", "[]", "null", "\"text\"", "123", "{}", new string('[', 5000) + new string(']', 5000), """{"a":1e400}""", "\u0000", """{"a":"\ud800"}"""];
    /// Values put in every leaf of a body of the operation's shape: a NUL, half a surrogate pair, long text, a template
    /// that does not close, and numbers below, at and beyond the range.
    private static readonly (string Text, string Number)[] BadLeaves =
    [
        ("\"\\u0000\"", "-1"),
        ("\"\\ud800\"", "0"),
        ("\"" + new string('x', 5000) + "\"", "2147483648"),
        ("\"{{ \"", "1e400"),
        ("\"\"", "-9223372036854775809"),
    ];

    [Fact]
    public async Task no_operation_answers_5xx_and_every_refusal_is_problem_json()
    {
        await Api.PutEchoRecipe(Known);
        var spec = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(WorkerProcess.RepositoryRoot(), "docs", "openapi.json"))).RootElement;
        // A tenant's admin key, and the platform operator's for what only the operator may do (tenants).
        using var admin = Api.Server.CreateClient();
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppFixture.AdminKey);
        using var @operator = Api.Server.CreateClient();
        @operator.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AppFixture.OperatorKey);

        var failures = new List<string>();
        var answers = new SortedDictionary<int, int>();
        var sent = 0;
        foreach (var path in spec.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            var method = new HttpMethod(operation.Name.ToUpperInvariant());
            foreach (var (url, body, headers) in Requests(spec, path.Name, operation.Value))
            {
                async Task<HttpResponseMessage> Send(HttpClient client)
                {
                    using var request = new HttpRequestMessage(method, url);
                    if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                    foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                    sent++;
                    return await client.SendAsync(request);
                }
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
                    var type = response.Content.Headers.ContentType?.MediaType;
                    if (status >= 500 || status >= 400 && type != "application/problem+json")
                        failures.Add($"{method} {Short(url)} {Short(body)} -> {status} {type}: {Short(await response.Content.ReadAsStringAsync())}");
                }
            }
        }
        output.WriteLine($"{sent} requests: " + string.Join(", ", answers.Select(a => $"{a.Key} × {a.Value}")));
        Assert.True(sent > 500, $"only {sent} requests were made");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests:\n{string.Join("\n", failures.Take(40))}");
    }

    private static string Short(string? text) => text is null ? "" : text.Length > 120 ? text[..120] + "…" : text;

    private static IEnumerable<(string Url, string? Body, (string, string)[] Headers)> Requests(JsonElement spec, string template, JsonElement operation)
    {
        var parameters = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
        var inPath = parameters.Where(p => p.GetProperty("in").GetString() == "path").ToList();
        var inQuery = parameters.Where(p => p.GetProperty("in").GetString() == "query").ToList();
        var inHeader = parameters.Where(p => p.GetProperty("in").GetString() == "header").ToList();
        var bodySchema = operation.TryGetProperty("requestBody", out var requestBody)
                         && requestBody.GetProperty("content").TryGetProperty("application/json", out var json)
                         && json.TryGetProperty("schema", out var schema)
            ? schema
            : (JsonElement?)null;
        var takesBody = operation.TryGetProperty("requestBody", out _);
        var goodBody = bodySchema is { } s ? Fill(spec, s, ("\"x\"", "1"), 0) : takesBody ? "{}" : null;

        string Url(JsonElement? bad = null, string? value = null, JsonElement? badQuery = null, string? queryValue = null)
        {
            var url = template;
            foreach (var p in inPath)
            {
                var name = p.GetProperty("name").GetString()!;
                var v = bad is { } b && b.GetProperty("name").GetString() == name ? value! : Good(p);
                url = url.Replace("{" + name + "}", v);
            }
            if (badQuery is { } q) url += $"?{q.GetProperty("name").GetString()}={queryValue}";
            return url;
        }

        foreach (var p in inPath)
        foreach (var value in Kind(p) switch { "uuid" => BadIds, "number" => BadNumbers, _ => BadNames })
            yield return (Url(p, value), goodBody, []);
        foreach (var q in inQuery)
        foreach (var value in BadQueries)
            yield return (Url(badQuery: q, queryValue: value), goodBody, []);
        foreach (var h in inHeader)
        foreach (var value in new[] { new string('i', 5000), " ", "ü" })
            yield return (Url(), goodBody, [(h.GetProperty("name").GetString()!, value)]);
        if (!takesBody) yield break;
        foreach (var body in BadBodies) yield return (Url(), body, []);
        if (bodySchema is { } shape)
            foreach (var leaves in BadLeaves)
                yield return (Url(), Fill(spec, shape, leaves, 0), []);
    }

    private static string Kind(JsonElement parameter)
    {
        var schema = parameter.GetProperty("schema");
        if (schema.TryGetProperty("format", out var format) && format.GetString() == "uuid") return "uuid";
        var type = schema.TryGetProperty("type", out var t) ? t : default;
        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(x => x.GetString()).ToList() : [type.ValueKind == JsonValueKind.String ? type.GetString() : null];
        return types.Contains("integer") || types.Contains("number") ? "number" : "text";
    }

    private static string Good(JsonElement parameter) => Kind(parameter) switch
    {
        "uuid" => Guid.NewGuid().ToString(),
        "number" => "1",
        _ => Known,
    };

    /// A JSON value of the schema's shape, with the given text and number in its leaves.
    private static string Fill(JsonElement spec, JsonElement schema, (string Text, string Number) leaves, int depth)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var target = spec;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/')) target = target.GetProperty(part);
            schema = target;
        }
        foreach (var union in new[] { "oneOf", "anyOf", "allOf" })
            if (schema.TryGetProperty(union, out var options))
                return Fill(spec, options.EnumerateArray().First(o => !o.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String || t.GetString() != "null"), leaves, depth);
        var types = !schema.TryGetProperty("type", out var type) ? []
            : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(x => x.GetString()!).ToList()
            : [type.GetString()!];
        if (depth > 6) return "null";
        if (schema.TryGetProperty("properties", out var properties) || types.Contains("object"))
        {
            if (properties.ValueKind != JsonValueKind.Object) return """{"key":""" + leaves.Text + "}";
            return "{" + string.Join(",", properties.EnumerateObject().Select(p =>
                JsonSerializer.Serialize(p.Name) + ":" + Fill(spec, p.Value, leaves, depth + 1))) + "}";
        }
        if (types.Contains("array"))
            return "[" + (schema.TryGetProperty("items", out var items) ? Fill(spec, items, leaves, depth + 1) : leaves.Text) + "]";
        if (types.Contains("integer") || types.Contains("number")) return leaves.Number;
        if (types.Contains("boolean")) return "true";
        if (types.Contains("string")) return leaves.Text;
        // No type (any JSON): an object with a text in it.
        return """{"value":""" + leaves.Text + "}";
    }
}
