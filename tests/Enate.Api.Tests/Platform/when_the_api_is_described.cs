using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Alba;
using Enate.Api.Platform;
using Enate.Testing;

namespace Enate.Api.Tests.Platform;

/// The OpenAPI document is what clients are generated from and what the reference page shows: an operation that
/// lacks a readable id, a summary, a description, its scope or its problems fails here.
public sealed partial class when_the_api_is_described(AppFixture app) : AppTest(app)
{
    /// The routes anyone may call: deliveries authenticate by signature, the rest are public references.
    private static readonly HashSet<string> Anonymous =
    [
        "POST /api/v1/hooks/{hookId}", "POST /api/v1/enate/webhooks/{subscriptionId}", "GET /api/v1/recipes/schema",
        "GET /api/v1/audit/keys", "GET /problems", "GET /problems/{kind}",
    ];

    /// The one route any valid key may call, whatever its scopes.
    private const string AnyKey = "GET /api/v1/api-keys/current";

    /// The writes that read no body: each is a verb on what its path names.
    private static readonly HashSet<string> Bodiless =
    [
        "POST /api/v1/recipes/{key}/webhook/rotate-secret", "POST /api/v1/tenants/{id}/disable", "POST /api/v1/tenants/{id}/enable",
        "POST /api/v1/replays/{id}/cancel", "POST /api/v1/recipes/{key}/activate", "POST /api/v1/recipes/{key}/deactivate",
        "POST /api/v1/audit/checkpoints", "POST /api/v1/admin/projections/rebuild",
        "POST /api/v1/notifications/endpoints/{id}/enable", "POST /api/v1/notifications/endpoints/{id}/rotate-secret",
        "POST /api/v1/notifications/deliveries/{id}/resend",
    ];

    private async Task<JsonElement> DocumentAsync()
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url("/openapi/v1.json");
            s.StatusCodeShouldBeOk();
        });
        return result.ReadAsJson<JsonElement>();
    }

    private static IEnumerable<(string Name, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch")
            .Select(o => ($"{o.Name.ToUpperInvariant()} {path.Name}", o.Value)));

    [Fact]
    public async Task every_operation_has_an_id_a_summary_a_description_its_scope_and_its_problems()
    {
        var document = await DocumentAsync();
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty(OpenApiDescription.Scheme);
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());

        var operations = Operations(document).ToList();
        Assert.True(operations.Count >= 40, $"{operations.Count} operations");
        var failures = new List<string>();
        var ids = new HashSet<string>();
        foreach (var (name, operation) in operations)
        {
            void Check(bool ok, string what) { if (!ok) failures.Add($"{name}: {what}"); }
            var id = operation.TryGetProperty("operationId", out var i) ? i.GetString() ?? "" : "";
            Check(OperationId().IsMatch(id) && ids.Add(id), $"operationId '{id}' is not a unique readable name");
            var summary = operation.TryGetProperty("summary", out var s) ? s.GetString() ?? "" : "";
            Check(summary.Length > 10 && !summary.Contains("api_v1"), $"summary '{summary}'");
            Check(operation.TryGetProperty("description", out var d) && d.GetString()!.Length >= summary.Length, "no description");

            if (name.Split(' ')[0] is "POST" or "PUT" or "PATCH")
                Check(operation.TryGetProperty("requestBody", out _) != Bodiless.Contains(name),
                    Bodiless.Contains(name) ? "declares a body it does not read" : "declares no request body");
            var responses = operation.GetProperty("responses").EnumerateObject().ToList();
            var successes = responses.Where(r => r.Name.StartsWith('2')).ToList();
            Check(successes.Count > 0, "no success response");
            foreach (var success in successes)
            {
                var typed = success.Value.TryGetProperty("content", out var content) &&
                            content.EnumerateObject().All(m => m.Value.TryGetProperty("schema", out var schema) && !schema.GetRawText().Contains("IResult"));
                Check(success.Name == "204" ? !success.Value.TryGetProperty("content", out _) : typed, $"{success.Name} has no typed body");
            }
            foreach (var error in responses.Where(r => r.Name[0] is '4' or '5'))
            {
                var schema = error.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/problem+json", out var media)
                    ? media.GetProperty("schema").GetProperty("$ref").GetString() : null;
                Check(schema == "#/components/schemas/ProblemDetails", $"{error.Name} is not application/problem+json");
                var types = TypeMention().Matches(error.Value.GetProperty("description").GetString() ?? "").Select(m => m.Groups[1].Value).ToList();
                Check(types.Count > 0 && types.All(t => ProblemCatalogue.Find(t)?.Status.ToString() == error.Name), $"{error.Name} names no problem type of its status");
            }
            Check(responses.Any(r => r.Name == "429") || name.Contains(" /problems"), "no 429");
            Check(responses.Any(r => r.Name == "503"), "no 503");

            var secured = operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0;
            Check(secured != Anonymous.Contains(name), secured ? "secured, but listed as anonymous" : "anonymous, but not listed as such");
            if (secured)
            {
                var scopes = security[0].GetProperty(OpenApiDescription.Scheme).EnumerateArray().Select(x => x.GetString()).ToList();
                Check(name == AnyKey ? scopes.Count == 0 :
                    scopes.Count == 1 && (Enate.Domain.Security.Scopes.All.Contains(scopes[0]!) || scopes[0] == Enate.Domain.Security.Scopes.Operator), $"scopes {string.Join(",", scopes)}");
                Check(responses.Any(r => r.Name == "401") && responses.Any(r => r.Name == "403"), "no 401/403");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// The CLI's client is generated from docs/openapi.json (Enate.Cli/Client): when the API changes, the checked-in
    /// document must change with it, and the client is generated again (see Enate.Cli/README.md).
    [Fact]
    public async Task the_checked_in_document_is_the_one_the_api_serves()
    {
        var served = JsonNode.Parse((await DocumentAsync()).GetRawText())!.AsObject();
        served.Remove("servers");
        var path = Path.Combine(WorkerProcess.RepositoryRoot(), "docs", "openapi.json");
        var text = served.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n";
        if (Environment.GetEnvironmentVariable("ENATE_WRITE_OPENAPI") == "1") await File.WriteAllTextAsync(path, text);
        var checkedIn = File.Exists(path) ? JsonNode.Parse(await File.ReadAllTextAsync(path)) : null;
        Assert.True(JsonNode.DeepEquals(checkedIn, served),
            "docs/openapi.json is not the document GET /openapi/v1.json serves: run this test with ENATE_WRITE_OPENAPI=1, then generate the CLI's client again.");
    }

    [Fact]
    public async Task every_route_is_in_the_reference_in_docs_and_the_reference_names_no_other()
    {
        var served = Operations(await DocumentAsync()).Select(o => o.Name).ToHashSet();
        var page = await File.ReadAllTextAsync(Path.Combine(WorkerProcess.RepositoryRoot(), "docs", "api.md"));
        var documented = RouteInDocs().Matches(page).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.True(served.SetEquals(documented),
            "docs/api.md lacks: " + string.Join(", ", served.Except(documented)) + "; names what the API lacks: " + string.Join(", ", documented.Except(served)));
    }

    [Fact]
    public async Task every_problem_the_api_answers_is_in_the_catalogue_it_serves_and_in_the_docs()
    {
        // Every kind the code answers with, written out where it is answered.
        var root = WorkerProcess.RepositoryRoot();
        var used = Directory.EnumerateFiles(Path.Combine(root, "Enate.Api"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .SelectMany(f => KindInCode().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet();
        Assert.Contains("recipe-inactive", used);
        Assert.DoesNotContain(used, k => ProblemCatalogue.Find(k) is null);

        var docs = await File.ReadAllTextAsync(Path.Combine(root, "docs", "problems.md"));
        foreach (var kind in ProblemCatalogue.All)
        {
            Assert.Contains($"`/problems/{kind.Kind}`", docs);
            var answer = await Api.Scenario(s =>
            {
                s.Get.Url(kind.Type);
                s.WithRequestHeader("Accept", "application/json");
                s.StatusCodeShouldBeOk();
            });
            Assert.Equal(kind.Status, answer.ReadAsJson<JsonElement>().GetProperty("status").GetInt32());
        }
        var page = await Api.Scenario(s =>
        {
            s.Get.Url("/problems");
            s.WithRequestHeader("Authorization", "Bearer not-a-key");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/html; charset=utf-8");
        });
        Assert.Contains("id=\"idempotency-conflict\"", await page.ReadAsTextAsync());
        await Api.Scenario(s =>
        {
            s.Get.Url("/problems/no-such-kind");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    [GeneratedRegex(@"\| `((?:GET|POST|PUT|DELETE|PATCH) /[^`]+)` \|")]
    private static partial Regex RouteInDocs();

    [GeneratedRegex("^[A-Z][A-Za-z]+$")]
    private static partial Regex OperationId();

    [GeneratedRegex(@"`/problems/([a-z0-9-]+)`")]
    private static partial Regex TypeMention();

    [GeneratedRegex(@"(?:Problem\([^,()]+, |Conflict\(|BadRequest\(|WriteProblem\([^,()]+, )""([a-z0-9-]+)""")]
    private static partial Regex KindInCode();
}
