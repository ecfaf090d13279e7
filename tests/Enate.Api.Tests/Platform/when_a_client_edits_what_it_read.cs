using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Recipes;

namespace Enate.Api.Tests.Platform;

/// ETags and If-Match on recipes and connections: a client that read a document and writes it back is refused (412)
/// when someone else changed it in between, instead of silently undoing that change.
public sealed class when_a_client_edits_what_it_read(AppFixture app) : AppTest(app)
{
    private static object Echo(string name) => new
    {
        name,
        trigger = new { type = "api" },
        steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
    };

    private async Task<IScenarioResult> Send(Action<Scenario> request) => await Api.Scenario(s =>
    {
        request(s);
        s.IgnoreStatusCode();
    });

    private static string Tag(IScenarioResult result) => result.Context.Response.Headers.ETag.ToString();

    private static void AssertPreconditionFailed(IScenarioResult result)
    {
        Assert.Equal(412, result.Context.Response.StatusCode);
        Assert.Equal("application/problem+json", result.Context.Response.ContentType);
        Assert.Equal("/problems/precondition-failed", result.ReadAsJson<JsonElement>().GetProperty("type").GetString());
    }

    [Fact]
    public async Task a_recipe_written_with_a_stale_tag_is_412_and_unchanged()
    {
        var created = await Send(s => s.Put.Json(Echo("First")).ToUrl("/api/v1/recipes/edited"));
        Assert.Equal(201, created.Context.Response.StatusCode);
        var read = await Send(s => s.Get.Url("/api/v1/recipes/edited"));
        var tag = Tag(read);
        Assert.Matches("^\"[0-9a-f]{32}\"$", tag);
        Assert.Equal(Tag(created), tag);

        // Someone else saves a second version with the tag they read...
        var theirs = await Send(s =>
        {
            s.Put.Json(Echo("Theirs")).ToUrl("/api/v1/recipes/edited");
            s.WithRequestHeader("If-Match", tag);
        });
        Assert.Equal(200, theirs.Context.Response.StatusCode);
        Assert.NotEqual(tag, Tag(theirs));
        Assert.Equal(Tag(theirs), Tag(await Send(s => s.Get.Url("/api/v1/recipes/edited"))));

        // ...so writing with the first tag is refused, and changes nothing.
        AssertPreconditionFailed(await Send(s =>
        {
            s.Put.Json(Echo("Mine")).ToUrl("/api/v1/recipes/edited");
            s.WithRequestHeader("If-Match", tag);
        }));
        AssertPreconditionFailed(await Send(s =>
        {
            s.Post.Url("/api/v1/recipes/edited/deactivate");
            s.WithRequestHeader("If-Match", tag);
        }));
        var now = await Api.GetAsJson<JsonElement>("/api/v1/recipes/edited");
        Assert.Equal("Theirs", now.GetProperty("name").GetString());
        Assert.Equal(2, now.GetProperty("latestVersion").GetInt32());
        Assert.True(now.GetProperty("active").GetBoolean());

        // Activation is a write: it answers the new tag, and honours a current one.
        var deactivated = await Send(s =>
        {
            s.Post.Url("/api/v1/recipes/edited/deactivate");
            s.WithRequestHeader("If-Match", Tag(theirs));
        });
        Assert.Equal(200, deactivated.Context.Response.StatusCode);
        Assert.NotEqual(Tag(theirs), Tag(deactivated));
    }

    [Fact]
    public async Task a_read_with_the_current_tag_is_304_and_create_only_refuses_an_existing_key()
    {
        var created = await Send(s =>
        {
            s.Put.Json(Echo("New")).ToUrl("/api/v1/recipes/create-only");
            s.WithRequestHeader("If-None-Match", "*");
        });
        Assert.Equal(201, created.Context.Response.StatusCode);
        AssertPreconditionFailed(await Send(s =>
        {
            s.Put.Json(Echo("Again")).ToUrl("/api/v1/recipes/create-only");
            s.WithRequestHeader("If-None-Match", "*");
        }));
        // If-Match on a recipe that does not exist cannot hold.
        AssertPreconditionFailed(await Send(s =>
        {
            s.Put.Json(Echo("Nothing")).ToUrl("/api/v1/recipes/never-made");
            s.WithRequestHeader("If-Match", Tag(created));
        }));

        var unchanged = await Send(s =>
        {
            s.Get.Url("/api/v1/recipes/create-only");
            s.WithRequestHeader("If-None-Match", Tag(created));
        });
        Assert.Equal(304, unchanged.Context.Response.StatusCode);
        Assert.Equal(Tag(created), Tag(unchanged));
        var other = await Send(s =>
        {
            s.Get.Url("/api/v1/recipes/create-only");
            s.WithRequestHeader("If-None-Match", "\"00000000000000000000000000000000\"");
        });
        Assert.Equal(200, other.Context.Response.StatusCode);
    }

    [Fact]
    public async Task a_connection_written_or_deleted_with_a_stale_tag_is_412_and_unchanged()
    {
        var body = new { kind = "http", baseUrl = "https://crm.example", auth = new { type = "bearer", token = "tok_1" }, timeoutSeconds = 5 };
        var created = await Send(s => s.Put.Json(body).ToUrl("/api/v1/connections/crm"));
        Assert.Equal(201, created.Context.Response.StatusCode);
        var tag = Tag(await Send(s => s.Get.Url("/api/v1/connections/crm")));
        Assert.Equal(Tag(created), tag);

        var theirs = await Send(s =>
        {
            s.Put.Json(body with { timeoutSeconds = 9 }).ToUrl("/api/v1/connections/crm");
            s.WithRequestHeader("If-Match", tag);
        });
        Assert.Equal(200, theirs.Context.Response.StatusCode);
        Assert.NotEqual(tag, Tag(theirs));

        AssertPreconditionFailed(await Send(s =>
        {
            s.Put.Json(body with { timeoutSeconds = 20 }).ToUrl("/api/v1/connections/crm");
            s.WithRequestHeader("If-Match", tag);
        }));
        AssertPreconditionFailed(await Send(s =>
        {
            s.Delete.Url("/api/v1/connections/crm");
            s.WithRequestHeader("If-Match", tag);
        }));
        Assert.Equal(9, (await Api.GetAsJson<JsonElement>("/api/v1/connections/crm")).GetProperty("timeoutSeconds").GetInt32());

        var deleted = await Send(s =>
        {
            s.Delete.Url("/api/v1/connections/crm");
            s.WithRequestHeader("If-Match", Tag(theirs));
        });
        Assert.Equal(204, deleted.Context.Response.StatusCode);
        Assert.Equal(404, (await Send(s => s.Get.Url("/api/v1/connections/crm"))).Context.Response.StatusCode);
    }

    [Fact]
    public async Task a_write_of_what_another_write_changed_meanwhile_fails_instead_of_undoing_it()
    {
        // The check against the revision read is the store's, not only the header's: a copy read before a change
        // cannot be written back over it, whichever way it is written.
        await Api.PutRecipe("raced", Echo("Raced"));
        await using var stale = App.Store.LightweightSession("demo");
        var copy = (await stale.LoadAsync<Recipe>("raced"))!;
        await Send(s => s.Post.Url("/api/v1/recipes/raced/deactivate"));

        copy.Name = "Stale";
        stale.Store(copy);
        await Assert.ThrowsAsync<JasperFx.ConcurrencyException>(() => stale.SaveChangesAsync());
        var now = await Api.GetAsJson<JsonElement>("/api/v1/recipes/raced");
        Assert.False(now.GetProperty("active").GetBoolean());
        Assert.Equal("Raced", now.GetProperty("name").GetString());
    }
}
