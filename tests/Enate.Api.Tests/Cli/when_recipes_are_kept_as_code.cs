using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;

namespace Enate.Api.Tests.Cli;

/// A folder of recipe files in git, brought to the platform by `enate` in CI: validated, compared, pushed (a push of
/// unchanged files makes no version), pulled back, dry-run, run and followed to the end, re-run, and the audit verified.
public sealed class when_recipes_are_kept_as_code(AppFixture app) : PartnerTest(app), IDisposable
{
    private readonly CommandLine _enate = new(app);
    private readonly string _folder = Directory.CreateTempSubdirectory("enate-recipes-").FullName;

    private const string DealJson = """
        {
          "$schema": "../docs/recipe.schema.json",
          "name": "Deal to CRM",
          "trigger": { "type": "api" },
          "steps": [
            { "id": "post", "type": "http", "connection": "crm", "method": "POST", "path": "/deals/{{ input.id }}",
              "body": { "name": "{{ input.name }}", "source": "enate" } }
          ]
        }
        """;

    private const string GreetingYaml = """
        name: Greeting
        trigger: { type: api }
        steps:
          - id: shape
            type: transform
            template:
              greeting: "hello {{ input.name }}"
        """;

    private void Write(string file, string text) => File.WriteAllText(Path.Combine(_folder, file), text);

    private static JsonNode Json(CommandLine.Result result) => JsonNode.Parse(result.Out) ?? throw new InvalidOperationException(result.ToString());

    [Fact]
    public async Task a_folder_is_validated_compared_pushed_once_and_pulled_back_unchanged()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Write("deal-to-crm.json", DealJson);
        Write("greeting.yaml", GreetingYaml);

        var validated = await _enate.RunAsync("recipes", "validate", _folder);
        Assert.True(validated.ExitCode == 0, validated.ToString());
        Assert.Contains("valid", validated.Out);

        var before = await _enate.RunAsync("recipes", "diff", _folder, "--json");
        Assert.Equal(3, before.ExitCode);
        Assert.All(Json(before).AsArray(), r => Assert.Equal("new", r!["state"]!.GetValue<string>()));

        var pushed = await _enate.RunAsync("recipes", "push", _folder, "--json");
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        Assert.Equal(["new", "new"], Json(pushed).AsArray().Select(r => r!["state"]!.GetValue<string>()));

        // Again: nothing changed, no version made, and the folder equals the platform.
        var again = await _enate.RunAsync("recipes", "push", _folder, "--json");
        Assert.Equal(["same", "same"], Json(again).AsArray().Select(r => r!["state"]!.GetValue<string>()));
        var greeting = await Api.Scenario(s => s.Get.Url("/api/v1/recipes/greeting"));
        Assert.Equal(1, greeting.ReadAsJson<JsonElement>().GetProperty("latestVersion").GetInt32());
        var same = await _enate.RunAsync("recipes", "diff", _folder);
        Assert.True(same.ExitCode == 0, same.ToString());

        // A change shows as a path in diff, and push saves it as version 2 with the same change.
        Write("greeting.yaml", GreetingYaml.Replace("hello", "hi"));
        var changed = await _enate.RunAsync("recipes", "diff", _folder, "--json");
        Assert.Equal(3, changed.ExitCode);
        var change = Json(changed).AsArray().Single(r => r!["key"]!.GetValue<string>() == "greeting")!["changes"]!.AsArray().Single()!;
        Assert.Equal("$.steps[0].template.greeting", change["path"]!.GetValue<string>());
        Assert.Equal("hi {{ input.name }}", change["after"]!.GetValue<string>());
        var second = await _enate.RunAsync("recipes", "push", _folder);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("v1→v2", second.Out);
        Assert.Contains("$.steps[0].template.greeting", second.Out);

        // Pulled into an empty folder, the recipes are the platform's: diff finds nothing.
        var pulledFolder = Path.Combine(_folder, "pulled");
        var pulled = await _enate.RunAsync("recipes", "pull", "--dir", pulledFolder);
        Assert.True(pulled.ExitCode == 0, pulled.ToString());
        Assert.True(File.Exists(Path.Combine(pulledFolder, "greeting.json")));
        Assert.Equal("http://localhost/api/v1/recipes/schema",
            JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(pulledFolder, "deal-to-crm.json")))!["$schema"]!.GetValue<string>());
        var roundTrip = await _enate.RunAsync("recipes", "diff", pulledFolder);
        Assert.True(roundTrip.ExitCode == 0, roundTrip.ToString());
    }

    [Fact]
    public async Task an_invalid_file_stops_the_push_before_anything_is_saved()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Write("greeting.yaml", GreetingYaml);
        Write("broken.json", """{ "name": "Broken", "trigger": { "type": "api" }, "steps": [ { "id": "x", "type": "http", "connection": "nowhere", "method": "GET", "path": "/" } ] }""");

        var validated = await _enate.RunAsync("recipes", "validate", _folder);
        Assert.Equal(1, validated.ExitCode);
        Assert.Contains("broken.json", validated.Error);
        Assert.Contains("$.steps[0].connection", validated.Error);

        var pushed = await _enate.RunAsync("recipes", "push", _folder);
        Assert.Equal(1, pushed.ExitCode);
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/greeting");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task a_recipe_is_dry_run_run_followed_to_its_end_re_run_and_the_audit_verifies()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Write("deal-to-crm.json", DealJson);
        Assert.Equal(0, (await _enate.RunAsync("recipes", "push", _folder)).ExitCode);
        var input = Path.Combine(_folder, "input.json");
        await File.WriteAllTextAsync(input, """{ "id": "d-42", "name": "Big deal" }""");

        var dry = await _enate.RunAsync("recipes", "dry-run", "deal-to-crm", "--input", input);
        Assert.True(dry.ExitCode == 0, dry.ToString());
        Assert.Contains("/deals/d-42", dry.Out);
        Assert.Empty(Partner.Requests);

        var run = await _enate.RunAsync("runs", "start", "deal-to-crm", "--input", input, "--tail");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("succeeded", run.Out);
        Assert.Contains("POST", run.Out);
        var received = Assert.Single(Partner.Requests);
        Assert.Equal("/deals/d-42", received.Path);

        var listed = Json(await _enate.RunAsync("runs", "ls", "--recipe", "deal-to-crm", "--json"));
        var runId = listed["items"]!.AsArray().Single()!["id"]!.GetValue<string>();
        var shown = Json(await _enate.RunAsync("runs", "show", runId, "--events", "--json"));
        Assert.Equal("succeeded", shown["status"]!.GetValue<string>());
        Assert.Contains(shown["events"]!.AsArray(), e => e!["type"]!.GetValue<string>().Replace("_", "").Equals("outboundrequestsent", StringComparison.OrdinalIgnoreCase));

        var rerun = await _enate.RunAsync("runs", "rerun", runId, "--version", "latest", "--reason", "partner asked", "--tail", "--json");
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Equal(runId, Json(rerun)["replayOf"]!.GetValue<string>());
        Assert.Equal(2, Partner.Requests.Count);

        var inbound = Json(await _enate.RunAsync("inbound", "ls", "--json"));
        Assert.Contains(inbound["items"]!.AsArray(), i => i!["runIds"]!.AsArray().Any(r => r!.GetValue<string>() == runId));

        var verified = await _enate.RunAsync("audit", "verify");
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Contains("verified", verified.Out);
        var export = Path.Combine(_folder, "audit.ndjson");
        var exported = await _enate.RunAsync("audit", "export", "--output", export);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.All(await File.ReadAllLinesAsync(export), line => JsonDocument.Parse(line).Dispose());
    }

    [Fact]
    public async Task failed_runs_are_re_run_in_bulk_and_followed_to_the_end()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Write("deal-to-crm.json", DealJson.Replace("\"trigger\": { \"type\": \"api\" },", "\"trigger\": { \"type\": \"api\" }, \"retry\": { \"schedule\": [\"PT0S\"], \"jitter\": 0 },"));
        Assert.Equal(0, (await _enate.RunAsync("recipes", "push", _folder)).ExitCode);
        Partner.Then(500).Then(500);
        for (var i = 0; i < 2; i++)
        {
            var failed = await _enate.RunAsync("runs", "start", "deal-to-crm", "--tail");
            Assert.True(failed.ExitCode == 3, failed.ToString());
        }

        var replay = await _enate.RunAsync("replays", "start", "--recipe", "deal-to-crm", "--status", "deadLettered", "--reason", "partner fixed", "--json");
        Assert.True(replay.ExitCode == 0, replay.ToString());
        var view = Json(replay);
        Assert.Equal(2, view["total"]!.GetValue<int>());
        Assert.Equal(2, view["succeeded"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_hook_is_shown_and_rotated_and_a_tenant_is_made_with_the_operators_profile()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Write("erp-hook.json", """{ "name": "ERP hook", "trigger": { "type": "webhook" }, "steps": [ { "id": "t", "type": "transform", "template": { "ok": true } } ] }""");
        Assert.Equal(0, (await _enate.RunAsync("recipes", "push", _folder)).ExitCode);
        var hook = Json(await _enate.RunAsync("hooks", "show", "erp-hook", "--json"));
        var rotated = Json(await _enate.RunAsync("hooks", "rotate", "erp-hook", "--json"));
        Assert.Equal(hook["url"]!.GetValue<string>(), rotated["url"]!.GetValue<string>());
        Assert.NotEqual(hook["secret"]!.GetValue<string>(), rotated["secret"]!.GetValue<string>());

        // A tenant key may not make tenants; the operator's profile may.
        var refused = await _enate.RunAsync("tenants", "create", "cli-made", "--name", "Made by the CLI");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("403", refused.Error);
        await _enate.LoginAsync(AppFixture.OperatorKey, "operator");
        var created = await _enate.RunAsync("tenants", "create", "cli-made", "--name", "Made by the CLI", "--profile", "operator", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var adminKey = Json(created)["adminKey"]!["key"]!.GetValue<string>();

        // The new tenant's admin key works, and sees none of demo's recipes.
        await _enate.LoginAsync(adminKey, "cli-made");
        var theirs = Json(await _enate.RunAsync("recipes", "diff", _folder, "--profile", "cli-made", "--json"));
        Assert.Equal("new", theirs[0]!["state"]!.GetValue<string>());
    }

    public void Dispose()
    {
        _enate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
