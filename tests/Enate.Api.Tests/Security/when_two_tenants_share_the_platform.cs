using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;

namespace Enate.Api.Tests.Security;

/// Tenant `demo` (the fixture's admin key) and tenant `rival` use the same names. Neither can see, trigger or
/// change the other's data through any route: the other tenant's things are "not found", never "forbidden".
public sealed class when_two_tenants_share_the_platform(AppFixture app) : AppTest(app)
{
    private string _rival = "";
    private Guid _demoRun;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _rival = await App.SeedKeyAsync("rival", Scopes.Admin);
        await Api.PutEchoRecipe("shared");
        _demoRun = await Api.RequestRun("shared", new { secretOfDemo = "demo-only-42" });
        await Api.WaitForRun(_demoRun, RunStatus.Succeeded);
    }

    [Theory]
    [InlineData("GET", "/api/v1/runs/{run}")]
    [InlineData("GET", "/api/v1/runs/{run}/events")]
    [InlineData("GET", "/api/v1/recipes/shared")]
    [InlineData("GET", "/api/v1/recipes/shared/versions/1")]
    [InlineData("POST", "/api/v1/recipes/shared/runs")]
    [InlineData("POST", "/api/v1/recipes/shared/deactivate")]
    [InlineData("POST", "/api/v1/recipes/shared/dry-run")]
    [InlineData("POST", "/api/v1/runs/{run}/replay")]
    [InlineData("GET", "/api/v1/runs/{run}?version=1")]
    public async Task the_other_tenants_resources_are_not_found(string method, string route)
    {
        var url = route.Replace("{run}", _demoRun.ToString());
        await Api.Scenario(s =>
        {
            if (method == "GET") s.Get.Url(url);
            else s.Post.Json(new { input = new { }, recipeVersion = "original", reason = "probe" }).ToUrl(url);
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    [Fact]
    public async Task lists_show_only_the_callers_tenant()
    {
        foreach (var url in new[] { "/api/v1/runs", "/api/v1/recipes", "/api/v1/connections", "/api/v1/api-keys" })
        {
            var text = await Api.Scenario(s =>
            {
                s.Get.Url(url);
                s.WithRequestHeader("Authorization", $"Bearer {_rival}");
                s.StatusCodeShouldBeOk();
            });
            var body = text.ReadAsText();
            Assert.DoesNotContain(_demoRun.ToString(), body);
            Assert.DoesNotContain("demo-only-42", body);
            Assert.DoesNotContain("\"shared\"", body);
            Assert.DoesNotContain("bootstrap", body);
        }
    }

    [Fact]
    public async Task the_same_recipe_key_in_two_tenants_is_two_recipes()
    {
        await Api.Scenario(s =>
        {
            s.Put.Json(new { name = "Rival's own", trigger = new { type = "api" }, steps = new[] { new { id = "a", type = "transform", select = "input" } } })
                .ToUrl("/api/v1/recipes/shared");
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var demo = await Api.GetAsJson<JsonElement>("/api/v1/recipes/shared");
        Assert.Equal("Echo", demo.GetProperty("definition").GetProperty("name").GetString());

        var rivalRun = await Api.Scenario(s =>
        {
            s.Post.Json(new { mine = true }).ToUrl("/api/v1/recipes/shared/runs");
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var runId = rivalRun.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/runs/{runId}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }
}
