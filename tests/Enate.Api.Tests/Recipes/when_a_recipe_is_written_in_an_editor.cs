using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;
using Enate.Testing;
using Json.Schema;

namespace Enate.Api.Tests.Recipes;

/// An editor given the recipe schema ($schema) completes and checks a recipe: a step is one of four shapes chosen by
/// its type, and closed sets of values are enums. The schema is checked in beside the docs, and every shipped recipe
/// names it and follows it.
public sealed class when_a_recipe_is_written_in_an_editor(AppFixture app) : AppTest(app)
{
    private static readonly string Root = WorkerProcess.RepositoryRoot();

    private static JsonSchema Schema() => JsonSchema.FromText(File.ReadAllText(Path.Combine(Root, "docs", "recipe.schema.json")));

    [Fact]
    public async Task the_checked_in_schema_is_the_one_the_api_serves()
    {
        var served = await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/schema");
            s.StatusCodeShouldBeOk();
        });
        var path = Path.Combine(Root, "docs", "recipe.schema.json");
        var text = await served.ReadAsTextAsync();
        // The same switch as the OpenAPI document's: the checked-in documents are written from what the API serves.
        if (Environment.GetEnvironmentVariable("ENATE_WRITE_OPENAPI") == "1")
            await File.WriteAllTextAsync(path, JsonNode.Parse(text)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        var checkedIn = JsonNode.Parse(await File.ReadAllTextAsync(path));
        Assert.True(JsonNode.DeepEquals(checkedIn, JsonNode.Parse(text)),
            "docs/recipe.schema.json is not the schema GET /api/v1/recipes/schema serves: run this test with ENATE_WRITE_OPENAPI=1.");
    }

    [Fact]
    public void every_shipped_recipe_names_the_schema_and_follows_it()
    {
        var schema = Schema();
        var files = Directory.GetFiles(Path.Combine(Root, "Enate.Api", "UseCases", "Recipes"), "*.json");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var recipe = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal("../../../docs/recipe.schema.json", recipe["$schema"]?.GetValue<string>());
            var result = schema.Evaluate(JsonSerializer.SerializeToElement(recipe), new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{Path.GetFileName(file)}: " + string.Join("; ",
                (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Value}")).Take(5)));
        }
    }

    [Theory]
    [InlineData("""{ "id": "a", "type": "http", "connection": "crm", "method": "FETCH", "path": "/x" }""")]
    [InlineData("""{ "id": "a", "type": "filter", "condition": "input.ok", "path": "/x" }""")]
    [InlineData("""{ "id": "a", "type": "enate", "connection": "enate", "operation": "deleteEverything" }""")]
    [InlineData("""{ "id": "a", "type": "transform", "from": "pdf" }""")]
    [InlineData("""{ "id": "a", "type": "http", "connection": "crm" }""")]
    public void a_step_outside_its_shape_fails_the_schema(string step)
    {
        var recipe = JsonNode.Parse($$"""{ "name": "x", "trigger": { "type": "api" }, "steps": [{{step}}] }""");
        Assert.False(Schema().Evaluate(JsonSerializer.SerializeToElement(recipe)).IsValid);
    }

    [Fact]
    public async Task a_recipe_that_names_its_schema_is_the_same_recipe_without_it()
    {
        var definition = new JsonObject
        {
            ["name"] = "Echo", ["trigger"] = new JsonObject { ["type"] = "api" },
            ["steps"] = new JsonArray(new JsonObject { ["id"] = "echo", ["type"] = "transform", ["select"] = "input" }),
        };
        var first = await Api.PutRecipe("schema-named", definition, 201);
        var named = definition.DeepClone().AsObject();
        named.Insert(0, "$schema", "../../../docs/recipe.schema.json");
        var again = await Api.PutRecipe("schema-named", named, 200);
        Assert.Equal(1, again.GetProperty("version").GetInt32());
        Assert.Equal(first.GetProperty("version").GetInt32(), again.GetProperty("version").GetInt32());
    }
}
