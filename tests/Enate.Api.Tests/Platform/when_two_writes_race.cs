using System.Text.Json;
using Alba;
using Enate.Api.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Enate.Api.Tests.Platform;

/// Two clients writing one thing at the same moment: one wins, the other is told 409 concurrent-change and changed
/// nothing, wherever in the request the store noticed the race (the endpoint's own save, or the commit after it).
public sealed class when_two_writes_race(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_loser_is_told_409_however_the_store_wrapped_the_race()
    {
        var handler = new DatabaseProblems(NullLogger<DatabaseProblems>.Instance);
        Exception[] lost =
        [
            new JasperFx.ConcurrencyException(typeof(Enate.Domain.Recipes.Recipe), "race"),
            new AggregateException(new JasperFx.DocumentAlreadyExistsException(new Exception("23505"), typeof(Enate.Domain.Recipes.Recipe), "race"),
                new JasperFx.ConcurrencyException(typeof(Enate.Domain.Recipes.Recipe), "race")),
            new InvalidOperationException("a commit failed", new JasperFx.ConcurrencyException(typeof(Enate.Domain.Runs.Run), Guid.NewGuid())),
            new PostgresException("duplicate key value violates unique constraint \"pk_mt_events_stream_and_version\"", "ERROR", "ERROR", "23505"),
        ];
        foreach (var exception in lost)
        {
            var context = new DefaultHttpContext { RequestServices = Api.Services };
            context.Response.Body = new MemoryStream();
            Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));
            Assert.Equal(409, context.Response.StatusCode);
            context.Response.Body.Position = 0;
            var problem = await JsonDocument.ParseAsync(context.Response.Body);
            Assert.Equal("/problems/concurrent-change", problem.RootElement.GetProperty("type").GetString());
            Assert.DoesNotContain("pk_mt_events", problem.RootElement.ToString());
        }
    }

    [Fact]
    public async Task saves_and_switches_of_one_recipe_at_once_never_answer_5xx()
    {
        object Recipe(int n) => new
        {
            name = $"Race {n}", trigger = new { type = "api" },
            steps = new object[] { new { id = "echo", type = "transform", template = $"{{{{ input | json }}}} {n}" } },
        };
        async Task<int> Send(Action<Scenario> request) => (await Api.Scenario(s =>
        {
            request(s);
            s.IgnoreStatusCode();
        })).Context.Response.StatusCode;

        var saves = await Task.WhenAll(Enumerable.Range(1, 12).Select(n => Send(s => s.Put.Json(Recipe(n)).ToUrl("/api/v1/recipes/race"))));
        Assert.All(saves, status => Assert.True(status is 200 or 201 or 409, $"a save answered {status}"));
        Assert.Contains(saves, status => status is 200 or 201);

        var switches = await Task.WhenAll(Enumerable.Range(1, 12).Select(n =>
            Send(s => s.Post.Url($"/api/v1/recipes/race/{(n % 2 == 0 ? "activate" : "deactivate")}"))));
        Assert.All(switches, status => Assert.True(status is >= 200 and < 300 or 409, $"a switch answered {status}"));

        // Saves that name the revision they read: one wins, and every other is told its precondition failed.
        var tag = (await Api.Scenario(s => s.Get.Url("/api/v1/recipes/race"))).Context.Response.Headers.ETag.ToString();
        var guarded = await Task.WhenAll(Enumerable.Range(20, 12).Select(n => Send(s =>
        {
            s.Put.Json(Recipe(n)).ToUrl("/api/v1/recipes/race");
            s.WithRequestHeader("If-Match", tag);
        })));
        Assert.Single(guarded, status => status == 200);
        Assert.All(guarded, status => Assert.True(status is 200 or 412, $"a guarded save answered {status}"));

        // What was saved is whole: the latest version is one of those sent, and every version number is taken once.
        var recipe = await Api.GetAsJson<JsonElement>("/api/v1/recipes/race");
        var versions = recipe.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()).ToList();
        Assert.Equal(versions.Distinct().Count(), versions.Count);
    }

    /// The same switch asked for many times at once is made once, and every request is told it holds: none of them has
    /// anything to retry. A switch that already holds changes nothing, not even the recipe's ETag.
    [Fact]
    public async Task the_same_switch_at_once_holds_for_every_request()
    {
        await Api.Scenario(s =>
        {
            s.Put.Json(new
            {
                name = "Switch", trigger = new { type = "api" },
                steps = new object[] { new { id = "echo", type = "transform", template = "{{ input | json }}" } },
            }).ToUrl("/api/v1/recipes/switch-race");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });
        foreach (var (path, active) in new[] { ("deactivate", false), ("activate", true), ("deactivate", false) })
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Api.Scenario(s =>
            {
                s.Post.Url($"/api/v1/recipes/switch-race/{path}");
                s.IgnoreStatusCode();
            })));
            Assert.All(answers, a => Assert.True(a.Context.Response.StatusCode == 200, a.Context.Response.StatusCode + " " + a.ReadAsText()));
            Assert.All(answers, a => Assert.Equal(active, a.ReadAsJson<JsonElement>().GetProperty("active").GetBoolean()));

            var tag = (await Api.Scenario(s => s.Get.Url("/api/v1/recipes/switch-race"))).Context.Response.Headers.ETag.ToString();
            var again = await Api.Scenario(s => s.Post.Url($"/api/v1/recipes/switch-race/{path}"));
            Assert.Equal(tag, again.Context.Response.Headers.ETag.ToString());
            Assert.Equal(active, (await Api.GetAsJson<JsonElement>("/api/v1/recipes/switch-race")).GetProperty("active").GetBoolean());
        }
    }

    /// Writes of one connection that name the revision they read: one wins, and every other is told its precondition
    /// failed, never 409 or 5xx.
    [Fact]
    public async Task guarded_writes_of_one_connection_at_once_leave_one_winner_and_412s()
    {
        object Connection(int timeout) => new { kind = "http", baseUrl = "http://127.0.0.1:9/", timeoutSeconds = timeout };
        await Api.Scenario(s =>
        {
            s.Put.Json(Connection(5)).ToUrl("/api/v1/connections/race");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });
        var tag = (await Api.Scenario(s => s.Get.Url("/api/v1/connections/race"))).Context.Response.Headers.ETag.ToString();
        var answers = await Task.WhenAll(Enumerable.Range(6, 12).Select(n => Api.Scenario(s =>
        {
            s.Put.Json(Connection(n)).ToUrl("/api/v1/connections/race");
            s.WithRequestHeader("If-Match", tag);
            s.IgnoreStatusCode();
        })));
        var statuses = answers.Select(a => a.Context.Response.StatusCode).ToList();
        Assert.Single(statuses, status => status == 200);
        Assert.All(statuses, status => Assert.True(status is 200 or 412, $"a guarded write answered {status}"));
    }
}
