using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Security;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Security;

public sealed class when_a_caller_presents_a_key(AppFixture app) : AppTest(app)
{
    [Theory]
    [InlineData("")]
    [InlineData("Bearer not-a-key-of-anyone-at-all")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task a_missing_or_bad_key_is_401_problem_json(string authorization)
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs");
            s.WithRequestHeader("Authorization", authorization);
            s.StatusCodeShouldBe(HttpStatusCode.Unauthorized);
            s.ContentTypeShouldBe("application/problem+json");
        });
        Assert.Equal("/problems/unauthenticated", result.ReadAsJson<JsonElement>().GetProperty("type").GetString());
    }

    [Fact]
    public async Task a_key_a_person_chose_shows_none_of_its_characters()
    {
        // The bootstrap key is chosen by the operator; a prefix of it, stored beside its hash, would be a real share of it.
        const string chosen = "operator-chose-this-0001";
        await using (var session = App.Store.LightweightSession())
        {
            // As stored with the first twelve characters shown.
            session.Store(new ApiKey
            {
                Id = ApiKey.HashOf(AppFixture.AdminKey), KeyId = Guid.CreateVersion7(), TenantId = "demo", Name = "bootstrap",
                Scopes = [Scopes.Admin], Prefix = AppFixture.AdminKey[..12] + "…", CreatedAt = DateTimeOffset.UtcNow,
            });
            await session.SaveChangesAsync();
        }
        foreach (var key in new[] { AppFixture.AdminKey, chosen })
        {
            var settings = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Enate:Bootstrap:ApiKey"] = key, ["Enate:Bootstrap:Tenant"] = "demo" }).Build();
            await new Enate.Api.Security.BootstrapKey(settings, App.Api.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostEnvironment>(),
                App.Store, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Enate.Api.Security.BootstrapKey>.Instance).StartAsync(default);
        }

        await using (var session = App.Store.QuerySession())
        {
            Assert.Equal("", (await session.LoadAsync<ApiKey>(ApiKey.HashOf(AppFixture.AdminKey)))!.Prefix);
            Assert.Equal("", (await session.LoadAsync<ApiKey>(ApiKey.HashOf(chosen)))!.Prefix);
        }
        var list = await Api.GetAsText("/api/v1/api-keys");
        Assert.DoesNotContain(AppFixture.AdminKey[..8], list);
        Assert.DoesNotContain(chosen[..8], list);
        // A key the platform made still shows its first characters, to be told apart.
        var made = ApiKey.NewKey();
        Assert.Equal(made[..12] + "…", ApiKey.Shown(made));
    }

    [Fact]
    public async Task a_key_without_the_scope_is_403_and_changes_nothing()
    {
        var reader = await CreateKey("reader", Scopes.RunsRead);

        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs");
            s.WithRequestHeader("Authorization", $"Bearer {reader}");
            s.StatusCodeShouldBeOk();
        });
        var result = await Api.Scenario(s =>
        {
            s.Put.Json(new { name = "x", trigger = new { type = "api" }, steps = new[] { new { id = "a", type = "transform", select = "input" } } })
                .ToUrl("/api/v1/recipes/forbidden");
            s.WithRequestHeader("Authorization", $"Bearer {reader}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
        Assert.Equal("/problems/forbidden", result.ReadAsJson<JsonElement>().GetProperty("type").GetString());
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/forbidden");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    [Fact]
    public async Task a_key_is_shown_once_stored_hashed_and_stops_working_when_revoked()
    {
        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "ci", scopes = new[] { Scopes.RunsTrigger, Scopes.RunsRead } }).ToUrl("/api/v1/api-keys");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var body = created.ReadAsJson<JsonElement>();
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetGuid();
        Assert.StartsWith(ApiKey.KeyPrefix, key);
        Assert.True(key.Length >= 40);

        var list = await Api.GetAsText("/api/v1/api-keys");
        Assert.DoesNotContain(key, list);
        Assert.Contains(id.ToString(), list);
        await using (var session = App.Store.QuerySession())
        {
            var raw = await session.Query<ApiKey>().Where(k => k.KeyId == id).SingleAsync();
            Assert.Equal(ApiKey.HashOf(key), raw.Id);
            Assert.DoesNotContain(key, JsonSerializer.Serialize(raw));
        }

        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs");
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.StatusCodeShouldBeOk();
        });
        await Api.Scenario(s =>
        {
            s.Delete.Url($"/api/v1/api-keys/{id}");
            s.StatusCodeShouldBe(HttpStatusCode.NoContent);
        });
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/runs");
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.StatusCodeShouldBe(HttpStatusCode.Unauthorized);
        });
    }

    [Fact]
    public async Task an_unknown_scope_is_422_and_creates_no_key()
    {
        await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "bad", scopes = new[] { "runs:read", "root" } }).ToUrl("/api/v1/api-keys");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
        });
        await using var session = App.Store.QuerySession();
        Assert.Equal(0, await session.Query<ApiKey>().CountAsync(k => k.Name == "bad"));
    }

    [Fact]
    public async Task only_an_admin_key_manages_keys()
    {
        var trigger = await CreateKey("trigger", Scopes.RunsTrigger);
        await Api.Scenario(s =>
        {
            s.Post.Json(new { name = "escalate", scopes = new[] { Scopes.Admin } }).ToUrl("/api/v1/api-keys");
            s.WithRequestHeader("Authorization", $"Bearer {trigger}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
    }

    private async Task<string> CreateKey(string name, params string[] scopes)
    {
        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { name, scopes }).ToUrl("/api/v1/api-keys");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        return created.ReadAsJson<JsonElement>().GetProperty("key").GetString()!;
    }
}
