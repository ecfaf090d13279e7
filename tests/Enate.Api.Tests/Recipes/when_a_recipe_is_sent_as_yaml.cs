using System.Text;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Recipes;

/// A recipe may be saved as YAML: it is read into the JSON it stands for and saved as that JSON would be — the same
/// definition and hash, the same validation, the same JSON paths in problems.
public sealed class when_a_recipe_is_sent_as_yaml(AppFixture app) : PartnerTest(app)
{
    private const string Yaml = """
        $schema: ../../../docs/recipe.schema.json
        name: Deal to CRM
        trigger: { type: api }
        steps:
          - id: only_big
            type: filter
            condition: "input.amount > `100`"
          - id: post
            type: http
            connection: crm
            method: POST
            path: /deals/{{ input.id }}
            body:
              name: "{{ input.name }}"
              amount: { $select: input.amount }
              source: enate
              note: |
                Line one: "quoted" <b>
                Line two
        retry:
          schedule: [PT0S, PT1S]
          jitter: 0
        """;

    private static readonly object Json = new
    {
        name = "Deal to CRM",
        trigger = new { type = "api" },
        steps = new object[]
        {
            new { id = "only_big", type = "filter", condition = "input.amount > `100`" },
            new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals/{{ input.id }}",
                body = new Dictionary<string, object>
                {
                    ["name"] = "{{ input.name }}", ["amount"] = new Dictionary<string, string> { ["$select"] = "input.amount" },
                    ["source"] = "enate", ["note"] = "Line one: \"quoted\" <b>\nLine two\n",
                } },
        },
        retry = new { schedule = new[] { "PT0S", "PT1S" }, jitter = 0 },
    };

    private Task<IScenarioResult> PutYaml(string key, string yaml) => Api.Scenario(s =>
    {
        s.Put.Text(yaml).ToUrl($"/api/v1/recipes/{key}");
        s.WithRequestHeader("Content-Type", "application/yaml");
        s.IgnoreStatusCode();
    });

    [Fact]
    public async Task yaml_and_its_json_are_the_same_recipe_and_send_the_same_bytes()
    {
        Assert.Equal(201, (await PutYaml("from-yaml", Yaml)).Context.Response.StatusCode);
        await Api.PutRecipe("from-json", Json, 201);
        var yamlVersion = await Api.GetAsJson<JsonElement>("/api/v1/recipes/from-yaml/versions/1");
        var jsonVersion = await Api.GetAsJson<JsonElement>("/api/v1/recipes/from-json/versions/1");
        Assert.Equal(jsonVersion.GetProperty("sha256").GetString(), yamlVersion.GetProperty("sha256").GetString());
        // Saving the same YAML again is no new version.
        Assert.Equal(200, (await PutYaml("from-yaml", Yaml)).Context.Response.StatusCode);

        var input = new { id = 7, name = "Acme", amount = 500 };
        await Api.WaitForRun(await Api.RequestRun("from-yaml", input), RunStatus.Succeeded);
        await Api.WaitForRun(await Api.RequestRun("from-json", input), RunStatus.Succeeded);
        var bodies = Partner.Requests.Select(r => r.Body).ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Equal(bodies[0], bodies[1]);
        Assert.Equal(500, JsonDocument.Parse(bodies[0]).RootElement.GetProperty("amount").GetInt32());
    }

    [Fact]
    public async Task a_yaml_recipe_that_breaks_the_rules_is_422_with_json_paths_and_bad_yaml_is_400()
    {
        var invalid = await PutYaml("bad", """
            name: Bad
            trigger: { type: api }
            steps:
              - { id: call, type: http, connection: nowhere, path: "/x/{{ input.id" }
            """);
        Assert.Equal(422, invalid.Context.Response.StatusCode);
        var paths = invalid.ReadAsJson<JsonElement>().GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("$.steps[0].connection", paths);
        Assert.Contains("$.steps[0].path", paths);

        var broken = await PutYaml("broken", "name: x\nsteps:\n  - id: a\n   type: b\n");
        Assert.Equal(400, broken.Context.Response.StatusCode);
        var problem = broken.ReadAsJson<JsonElement>();
        Assert.Equal("/problems/malformed-yaml", problem.GetProperty("type").GetString());
        Assert.Contains("line 4", problem.GetProperty("detail").GetString());
        // Input the YAML reader fails on without naming a place is refused all the same.
        var unclosed = await PutYaml("unclosed", "name: [unclosed\nsteps: -");
        Assert.Equal("/problems/malformed-yaml", unclosed.ReadAsJson<JsonElement>().GetProperty("type").GetString());

        // Aliases that would expand a small body into an enormous one are refused, not expanded.
        var laughs = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 0; i < 9; i++) laughs.Append($"{(char)('b' + i)}: &{(char)('b' + i)} [*{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}, *{(char)('a' + i)}]\n");
        var bomb = await PutYaml("bomb", laughs.ToString());
        Assert.Equal(400, bomb.Context.Response.StatusCode);
        Assert.Contains("more than", bomb.ReadAsJson<JsonElement>().GetProperty("detail").GetString());

        // YAML is for recipes only: other routes still take JSON alone.
        var elsewhere = await Api.Scenario(s =>
        {
            s.Post.Text("name: x").ToUrl("/api/v1/recipes/bad/runs");
            s.WithRequestHeader("Content-Type", "application/yaml");
            s.IgnoreStatusCode();
        });
        Assert.Equal(415, elsewhere.Context.Response.StatusCode);
    }
}
