using System.Text.Json;
using Alba;

namespace Enate.Api.Tests.Recipes;

/// A recipe that is JSON but wrong in a part the schema allows to be anything (a null step, an argument that is a
/// list, half a surrogate pair in a template) is answered 4xx with where it is wrong, on save and on validate alike;
/// nothing is saved.
public sealed class when_a_recipe_is_malformed_in_its_parts(AppFixture app) : AppTest(app)
{
    public static TheoryData<string, string, string> Recipes => new()
    {
        { """{"name":"x","trigger":{"type":"api"},"steps":[null]}""", "/problems/validation", "$.steps[0]" },
        { """{"name":"x","trigger":{"type":"api"},"steps":null}""", "/problems/validation", "$.steps" },
        {
            """{"name":"x","trigger":{"type":"api"},"steps":[{"id":"e","type":"enate","connection":"none","operation":"GetPacket","args":{"packetId":[1],"other":5}}]}""",
            "/problems/validation", "$.steps[0].connection"
        },
        { """{"name":"x","trigger":{"type":"api"},"steps":[{"id":"t","type":"transform","template":"\ud800"}]}""", "/problems/malformed-json", "" },
        { """{"name":"\udc00","trigger":{"type":"api"},"steps":[{"id":"t","type":"transform","select":"input"}]}""", "/problems/malformed-json", "" },
        {
            """{"name":"x","trigger":{"type":"api"},"steps":[""" +
            string.Join(",", Enumerable.Range(0, 201).Select(i => $$"""{"id":"s{{i}}","type":"transform","select":"input"}""")) + "]}",
            "/problems/validation", "$.steps"
        },
    };

    [Theory]
    [MemberData(nameof(Recipes))]
    public async Task it_is_answered_with_where_it_is_wrong_and_nothing_is_saved(string recipe, string type, string path)
    {
        foreach (var (method, url) in new[] { ("PUT", "/api/v1/recipes/malformed"), ("POST", "/api/v1/recipes/malformed/validate") })
        {
            var result = await Api.Scenario(s =>
            {
                if (method == "PUT") s.Put.Text(recipe).ToUrl(url);
                else s.Post.Text(recipe).ToUrl(url);
                s.WithRequestHeader("Content-Type", "application/json");
                s.IgnoreStatusCode();
            });
            var status = result.Context.Response.StatusCode;
            var problem = result.ReadAsJson<JsonElement>();
            Assert.True(status is >= 400 and < 500, $"{method} answered {status}: {problem}");
            Assert.Equal(type, problem.GetProperty("type").GetString());
            if (path.Length > 0)
                Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == path);
        }
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/malformed");
            s.StatusCodeShouldBe(404);
        });
    }

    [Theory]
    [InlineData("a: &a [*a]\nname: x\ntrigger: {type: api}\nsteps: []\n", "an alias inside what it names")]
    [InlineData("name: x\ntrigger: {type: api}\nsteps: []\nretry: {jitter: 1e400}\n", "out of range")]
    [InlineData("deep", "nests deeper than 64")]
    public async Task a_yaml_recipe_that_stands_for_no_json_is_400_and_the_api_lives(string yaml, string says)
    {
        if (yaml == "deep") yaml = "name: x\ntrigger: {type: api}\nsteps: []\nz: " + new string('[', 70) + new string(']', 70) + "\n";
        var result = await Api.Scenario(s =>
        {
            s.Post.Text(yaml).ToUrl("/api/v1/recipes/yaml-malformed/validate");
            s.WithRequestHeader("Content-Type", "application/yaml");
            s.StatusCodeShouldBe(400);
        });
        var problem = result.ReadAsJson<JsonElement>();
        Assert.Equal("/problems/malformed-yaml", problem.GetProperty("type").GetString());
        Assert.Contains(says, problem.GetProperty("detail").GetString());
    }
}
