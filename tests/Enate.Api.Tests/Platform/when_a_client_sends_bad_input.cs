using System.Net;
using System.Text;
using System.Text.Json;
using Alba;

namespace Enate.Api.Tests.Platform;

public sealed class when_a_client_sends_bad_input(AppFixture app) : AppTest(app)
{
    private async Task<JsonElement> Expect(HttpStatusCode status, Action<Scenario> send)
    {
        var result = await Api.Scenario(s =>
        {
            send(s);
            s.StatusCodeShouldBe(status);
            s.ContentTypeShouldBe("application/problem+json");
        });
        return result.ReadAsJson<JsonElement>();
    }

    private Task EchoRecipe() => Api.PutEchoRecipe("echo");

    [Fact]
    public async Task malformed_json_is_400()
    {
        await EchoRecipe();
        await Expect(HttpStatusCode.BadRequest, s => s.Post.Text("{bad").ToUrl("/api/v1/recipes/echo/runs").ContentType("application/json"));
    }

    [Fact]
    public async Task an_over_long_url_is_414_problem_json()
    {
        var problem = await Expect(HttpStatusCode.RequestUriTooLong, s => s.Get.Url("/api/v1/runs?recipe=" + new string('r', 9000)));
        Assert.Equal("/problems/uri-too-long", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task a_body_that_is_not_json_is_415()
    {
        await EchoRecipe();
        var problem = await Expect(HttpStatusCode.UnsupportedMediaType, s => s.Post.Text("hello").ToUrl("/api/v1/recipes/echo/runs"));
        Assert.Equal("/problems/unsupported-media-type", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task a_body_over_the_limit_is_413_and_starts_nothing()
    {
        await EchoRecipe();
        // Run triggers take files (pattern 4) up to 10 MiB; every other route 1 MiB.
        var huge = "\"" + new string('a', 10 * 1024 * 1024 + 10) + "\"";
        await Expect(HttpStatusCode.RequestEntityTooLarge, s =>
            s.Post.ByteArray(Encoding.UTF8.GetBytes(huge)).ToUrl("/api/v1/recipes/echo/runs").ContentType("application/json"));
        var big = "\"" + new string('a', 1024 * 1024 + 10) + "\"";
        await Expect(HttpStatusCode.RequestEntityTooLarge, s =>
            s.Put.ByteArray(Encoding.UTF8.GetBytes(big)).ToUrl("/api/v1/recipes/echo").ContentType("application/json"));
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=echo");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task an_unparseable_query_value_is_400_not_a_silent_default() =>
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs?limit=abc");
            s.StatusCodeShouldBe(HttpStatusCode.BadRequest);
        });

    [Fact]
    public async Task a_connection_with_a_bad_shape_lists_its_problems()
    {
        var problem = await Expect(HttpStatusCode.UnprocessableEntity, s =>
            s.Put.Json(new { kind = "ftp", baseUrl = "not a url", auth = new { type = "basic" } }).ToUrl("/api/v1/connections/x"));
        var paths = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("$.kind", paths);
        Assert.Contains("$.baseUrl", paths);
        Assert.Contains("$.auth.username", paths);
        Assert.Contains("$.auth.password", paths);
    }

    [Fact]
    public async Task a_dry_run_without_input_is_422_not_500()
    {
        await EchoRecipe();
        await Expect(HttpStatusCode.UnprocessableEntity, s => s.Post.Json(new { version = 1 }).ToUrl("/api/v1/recipes/echo/dry-run"));
    }
}
