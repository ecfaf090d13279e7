extern alias workers;
using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// Idempotency-Key as the IETF draft has it: a repeat answers the original status and body, a reuse with another body
/// is 422, and a key is remembered for a documented window.
public sealed class when_a_client_repeats_a_request(AppFixture app) : AppTest(app)
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Api.PutEchoRecipe("orders");
    }

    private async Task<IScenarioResult> Post(object body, string key) => await Api.Scenario(s =>
    {
        s.Post.Json(body).ToUrl("/api/v1/recipes/orders/runs");
        s.WithRequestHeader("Idempotency-Key", key);
        s.IgnoreStatusCode();
    });

    [Fact]
    public async Task a_repeat_answers_as_the_first_request_did_and_starts_nothing()
    {
        var first = await Post(new { id = 1, name = "A" }, "order-1");
        var again = await Post(new { id = 1, name = "A" }, "order-1");

        Assert.Equal(202, first.Context.Response.StatusCode);
        Assert.Equal(202, again.Context.Response.StatusCode);
        Assert.Equal(await first.ReadAsTextAsync(), await again.ReadAsTextAsync());
        Assert.Equal(first.Context.Response.Headers.Location.ToString(), again.Context.Response.Headers.Location.ToString());
        Assert.False(first.Context.Response.Headers.ContainsKey("Idempotent-Replayed"));
        Assert.Equal("true", again.Context.Response.Headers["Idempotent-Replayed"].ToString());

        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=orders");
        Assert.Single(runs.GetProperty("items").EnumerateArray());
        var duplicate = (await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=duplicate")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(202, duplicate.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task a_key_reused_with_another_body_is_422_and_starts_nothing()
    {
        var first = await Post(new { id = 1, name = "A" }, "order-2");
        var other = await Post(new { id = 1, name = "B" }, "order-2");

        Assert.Equal(202, first.Context.Response.StatusCode);
        Assert.Equal(422, other.Context.Response.StatusCode);
        Assert.Equal("application/problem+json", other.Context.Response.ContentType);
        var problem = other.ReadAsJson<JsonElement>();
        Assert.Equal("/problems/idempotency-conflict", problem.GetProperty("type").GetString());
        Assert.Contains(first.ReadAsJson<JsonElement>().GetProperty("runId").GetString()!, problem.GetProperty("detail").GetString());
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=orders");
        Assert.Single(runs.GetProperty("items").EnumerateArray());
        var refused = (await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected")).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(422, refused.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task an_expired_key_starts_a_new_run_and_the_workers_delete_expired_keys()
    {
        var first = (await Post(new { id = 1 }, "order-3")).ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        var kept = (await Post(new { id = 2 }, "order-4")).ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        // Both keys were used 25 hours ago: past the default window of 24 hours.
        await Backdate(RunIdempotency.IdFor("orders", "order-3"), TimeSpan.FromHours(25));

        // An expired key is free: the same request starts a new run, with any body, and is remembered afresh.
        var second = await Post(new { id = 1 }, "order-3");
        Assert.Equal(202, second.Context.Response.StatusCode);
        var secondId = second.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        Assert.NotEqual(first, secondId);
        var repeat = await Post(new { id = 1 }, "order-3");
        Assert.Equal(secondId, repeat.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid());
        // A key within its window still answers with its run.
        Assert.Equal(kept, (await Post(new { id = 2 }, "order-4")).ReadAsJson<JsonElement>().GetProperty("runId").GetGuid());

        // The sweep deletes only what has expired.
        await Backdate(RunIdempotency.IdFor("orders", "order-4"), TimeSpan.FromHours(25));
        await using var database = NpgsqlDataSource.Create(App.ConnectionString);
        await using var databases = new Enate.Domain.Platform.TenantDatabases(database, new ConfigurationBuilder().Build());
        var sweep = new workers::Enate.Workers.Runs.ExpiredKeys(databases, new ConfigurationBuilder().Build(), TimeProvider.System,
            NullLogger<workers::Enate.Workers.Runs.ExpiredKeys>.Instance);
        Assert.Equal(1, await sweep.SweepAsync(CancellationToken.None));
        Assert.Equal([RunIdempotency.IdFor("orders", "order-3")], await KeysAsync());
    }

    [Fact]
    public async Task the_sweep_goes_on_past_a_database_that_is_away_and_still_reports_it()
    {
        await Post(new { id = 5 }, "order-5");
        await Backdate(RunIdempotency.IdFor("orders", "order-5"), TimeSpan.FromHours(25));

        // The platform's database comes first in every round, and here it is away (nothing listens on port 1); the
        // database beside it is this test's.
        await using var away = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=away;Timeout=2");
        var placed = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Enate:Tenancy:Databases:beside"] = App.ConnectionString }).Build();
        await using var databases = new Enate.Domain.Platform.TenantDatabases(away, placed);
        var sweep = new workers::Enate.Workers.Runs.ExpiredKeys(databases, new ConfigurationBuilder().Build(), TimeProvider.System,
            NullLogger<workers::Enate.Workers.Runs.ExpiredKeys>.Instance);

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => sweep.SweepAsync(CancellationToken.None));
        Assert.DoesNotContain(RunIdempotency.IdFor("orders", "order-5"), await KeysAsync());
    }

    private async Task Backdate(string id, TimeSpan age)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"update {EnateStore.Schema}.mt_doc_runidempotency set data = jsonb_set(data, '{{createdAt}}', to_jsonb(@at)) where id = @id", connection);
        command.Parameters.AddWithValue("at", (DateTimeOffset.UtcNow - age).ToString("O"));
        command.Parameters.AddWithValue("id", id);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    private async Task<List<string>> KeysAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select id from {EnateStore.Schema}.mt_doc_runidempotency order by id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }
}
