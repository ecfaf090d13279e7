using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Enate.Api.Recipes;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Recipes;

/// A body or a transform's template may be JSON written out — string values are Liquid templates, `{"$select": …}`
/// takes any JSON value — instead of JSON escaped inside a string. Both forms of the same JSON send the same bytes.
public sealed class when_a_recipe_writes_its_json_out(AppFixture app) : PartnerTest(app)
{
    private Task Recipe(string key, object shape, object body) => Api.PutRecipe(key, new
    {
        name = key,
        trigger = new { type = "api" },
        steps = new object[]
        {
            new { id = "shape", type = "transform", template = shape },
            new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals", body },
        },
    }, 201);

    [Fact]
    public async Task the_same_json_written_out_or_in_a_string_sends_the_same_bytes()
    {
        await Recipe("as-strings",
            """{"dealName": {{ input.name | json }}, "amount": {{ input.amount }}, "tags": {{ input.tags | json }}, "owner": "{{ input.owner.email }}"}""",
            """{"deal": {"dealName": {{ steps.shape.dealName | json }}, "amount": {{ steps.shape.amount }}, "tags": {{ steps.shape.tags | json }}, "owner": {{ steps.shape.owner | json }}}, "source": "enate", "lines": [{{ input.amount }}, 1]}""");
        await Recipe("written-out",
            new { dealName = "{{ input.name }}", amount = new Dictionary<string, string> { ["$select"] = "input.amount" },
                tags = new Dictionary<string, string> { ["$select"] = "input.tags" }, owner = "{{ input.owner.email }}" },
            new { deal = new Dictionary<string, string> { ["$select"] = "steps.shape" }, source = "enate",
                lines = new object[] { new Dictionary<string, string> { ["$select"] = "input.amount" }, 1 } });

        var input = new { name = "Acme \"Gold\" <Zürich>", amount = 1250.5, tags = new[] { "a", "b" }, owner = new { email = "ada@example.com" } };
        var first = await Api.RequestRun("as-strings", input);
        var second = await Api.RequestRun("written-out", input);
        await Api.WaitForRun(first, RunStatus.Succeeded);
        await Api.WaitForRun(second, RunStatus.Succeeded);

        var bodies = Partner.Requests.Select(r => r.Body).ToList();
        Assert.Equal(2, bodies.Count);
        Assert.Equal(bodies[0], bodies[1]);
        Assert.Equal("Acme \"Gold\" <Zürich>", JsonNode.Parse(bodies[0])!["deal"]!["dealName"]!.GetValue<string>());
        Assert.Equal(1250.5, JsonNode.Parse(bodies[0])!["lines"]![0]!.GetValue<double>());
    }

    [Fact]
    public async Task a_problem_inside_json_written_out_is_named_by_its_path()
    {
        var answer = await Api.PutRecipe("broken", new
        {
            name = "Broken",
            trigger = new { type = "api" },
            steps = new object[]
            {
                new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals",
                    body = new { deal = new { name = "{{ input.name ", items = new object[] { 1, new Dictionary<string, string> { ["$select"] = "input.[" } } } } },
            },
        }, 422);
        var paths = answer.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.True(paths.Count == 2, answer.ToString());
        Assert.Contains("$.steps[0].body.deal.name", paths);
        Assert.Contains("$.steps[0].body.deal.items[1].$select", paths);
    }

    [Fact]
    public void a_template_in_a_string_hashes_as_it_always_has()
    {
        // A recipe saved before JSON could be written out must not become a new version when saved again unchanged.
        const string template = "{\"name\": {{ input.name | json }}, \"note\": \"é <b> & \\\\ \\u00e9\"}";
        var definition = RecipeJson.Read(JsonSerializer.SerializeToElement(new
        {
            name = "Hash", trigger = new { type = "api" }, steps = new object[] { new { id = "t", type = "transform", template } },
        })).Recipe!;
        Assert.Contains($"\"template\":{JsonSerializer.Serialize(template, RecipeJson.Options)}", RecipeJson.Canonical(definition));
    }

    [Fact]
    public async Task the_schema_says_a_body_is_a_template_or_json_written_out()
    {
        // The options the schema is exported from carry their resolver from the start, so a fresh process's first
        // request may be for the schema.
        Assert.NotNull(RecipeJson.Options.TypeInfoResolver);
        var schema = await Api.GetAsJson<JsonElement>("/api/v1/recipes/schema");
        var http = schema.GetProperty("properties").GetProperty("steps").GetProperty("items").GetProperty("oneOf").EnumerateArray()
            .Single(step => step.GetProperty("properties").GetProperty("type").GetProperty("const").GetString() == "http");
        var body = http.GetProperty("properties").GetProperty("body");
        Assert.Equal(["string", "object", "array"], body.GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("$select", body.GetProperty("description").GetString());
    }
}
