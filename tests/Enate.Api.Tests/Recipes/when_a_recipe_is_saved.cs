using System.Net;
using System.Text.Json;
using Alba;

namespace Enate.Api.Tests.Recipes;

public sealed class when_a_recipe_is_saved(AppFixture app) : AppTest(app)
{
    private static object Recipe(string template = "{\"name\": \"{{ input.name }}\"}") => new
    {
        name = "Shape a deal",
        trigger = new { type = "api" },
        steps = new object[] { new { id = "shape", type = "transform", template } },
    };

    [Fact]
    public async Task versions_are_numbered_and_an_identical_save_changes_nothing()
    {
        var first = await Api.PutRecipe("deal", Recipe(), 201);
        Assert.Equal(1, first.GetProperty("version").GetInt32());

        var again = await Api.PutRecipe("deal", Recipe(), 200);
        Assert.Equal(1, again.GetProperty("version").GetInt32());

        var changed = await Api.PutRecipe("deal", Recipe("{\"title\": \"{{ input.name }}\"}"), 200);
        Assert.Equal(2, changed.GetProperty("version").GetInt32());

        var v1 = await Api.GetAsJson<JsonElement>("/api/v1/recipes/deal/versions/1");
        Assert.Contains("\"name\"", v1.GetProperty("definition").GetProperty("steps")[0].GetProperty("template").GetString());
        var latest = await Api.GetAsJson<JsonElement>("/api/v1/recipes/deal");
        Assert.Equal(2, latest.GetProperty("latestVersion").GetInt32());
        Assert.Equal(2, latest.GetProperty("versions").GetArrayLength());
    }

    /// Headers and Enate arguments mean the same in any order: written in another order, or read back from the
    /// platform (which stores them in its own order) and saved again, a recipe is the same version.
    [Fact]
    public async Task the_order_of_headers_and_arguments_makes_no_new_version()
    {
        await Api.PutConnection("crm", "http://127.0.0.1:9");
        await Api.PutConnection("enate", "http://127.0.0.1:9", new { type = "bearer", token = "t" }, kind: "enate");
        object Written(bool reversed) => new
        {
            name = "Order", trigger = new { type = "api" },
            steps = new object[]
            {
                new
                {
                    id = "post", type = "http", connection = "crm", method = "POST", path = "/x",
                    headers = reversed
                        ? new Dictionary<string, string> { ["X-Zeta"] = "z", ["X-Alpha"] = "a" }
                        : new Dictionary<string, string> { ["X-Alpha"] = "a", ["X-Zeta"] = "z" },
                },
                new
                {
                    id = "note", type = "enate", connection = "enate", operation = "addNote",
                    args = reversed ? (object)new { note = "{{ input.n }}", guid = "p-1" } : new { guid = "p-1", note = "{{ input.n }}" },
                },
            },
        };
        Assert.Equal(1, (await Api.PutRecipe("ordered", Written(false), 201)).GetProperty("version").GetInt32());
        Assert.Equal(1, (await Api.PutRecipe("ordered", Written(true), 200)).GetProperty("version").GetInt32());
        var stored = (await Api.GetAsJson<JsonElement>("/api/v1/recipes/ordered")).GetProperty("definition");
        Assert.Equal(1, (await Api.PutRecipe("ordered", stored, 200)).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task a_bad_recipe_is_rejected_with_every_problem_and_its_path()
    {
        var bad = new
        {
            name = "Broken",
            trigger = new { type = "api" },
            steps = new object[]
            {
                new { id = "call", type = "http", connection = "nowhere", path = "/x/{{ input.id" },
                new { id = "shape", type = "transform", template = "{{ steps.later.body }}" },
                new { id = "pick", type = "filter", condition = "foo[" },
                new { id = "later", type = "teleport" },
            },
        };
        var result = await Api.Scenario(s =>
        {
            s.Put.Json(bad).ToUrl("/api/v1/recipes/broken");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
            s.ContentTypeShouldBe("application/problem+json");
        });
        var problem = result.ReadAsJson<JsonElement>();
        Assert.Equal("/problems/validation", problem.GetProperty("type").GetString());
        var paths = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("$.steps[0].connection", paths);
        Assert.Contains("$.steps[0].path", paths);
        Assert.Contains("$.steps[1]", paths);
        Assert.Contains("$.steps[2].condition", paths);
        Assert.Contains("$.steps[3].type", paths);

        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/broken");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    [Fact]
    public async Task the_schema_is_published()
    {
        var result = await Api.Scenario(s => s.Get.Url("/api/v1/recipes/schema"));
        var schema = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        Assert.True(schema.GetProperty("properties").TryGetProperty("steps", out _));
    }

    [Fact]
    public async Task an_inactive_recipe_rejects_triggers()
    {
        await Api.PutRecipe("paused", Recipe());
        await Api.Scenario(s => s.Post.Url("/api/v1/recipes/paused/deactivate"));
        await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "x" }).ToUrl("/api/v1/recipes/paused/runs");
            s.StatusCodeShouldBe(HttpStatusCode.Conflict);
        });
    }
}
