using System.Net;
using System.Text.Json;
using Alba;
using Enate.Api.Audit;
using Enate.Api.Tests.Replay;
using Enate.Domain.Audit;
using Enate.Domain.Inbound;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;

namespace Enate.Api.Tests.Audit;

/// POST /api/v1/admin/projections/rebuild re-projects every registered read model of every tenant from the event
/// log: afterwards each document is exactly what the live (inline) projections had written, damage included.
public sealed class when_projections_are_rebuilt(AppFixture app) : AppTest(app)
{
    private static readonly string[] Tenants = ["demo", "rival"];
    private const string DeadLetters = "select count(*) from wolverine.wolverine_dead_letters";
    private string _rival = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _rival = await App.SeedKeyAsync("rival", Scopes.Admin);
    }

    [Fact]
    public async Task every_read_model_of_the_callers_tenant_comes_back_as_it_was_and_no_other_tenants_is_touched()
    {
        await ArrangeHistory();
        var before = await ReadModels();
        Assert.Contains(before.Keys, k => k.StartsWith($"{nameof(RunSummary)}/rival/"));
        Assert.Contains(before.Keys, k => k.StartsWith($"{nameof(InboundRequest)}/demo/"));

        // Read models damaged or lost out of band, in both tenants: a rebuild restores its own tenant's from the log.
        var summaries = before.Keys.Where(k => k.StartsWith($"{nameof(RunSummary)}/demo/")).ToList();
        await Sql($"update enate.mt_doc_runsummary set data = jsonb_set(data, '{{status}}', '\"tampered\"') where id = '{Id(summaries[0])}'");
        await Sql($"delete from enate.mt_doc_runsummary where id = '{Id(summaries[1])}'");
        await Sql("delete from enate.mt_doc_inboundrequest where tenant_id = 'rival'");
        foreach (var tenant in Tenants)
        {
            await using var session = App.Store.LightweightSession(tenant);
            session.Store(new RunSummary { Id = Guid.CreateVersion7(), RecipeKey = "never-ran", Input = JsonDocument.Parse("{}").RootElement });
            await session.SaveChangesAsync();
        }
        var damaged = await ReadModels();
        Assert.NotEqual(Of(before, "demo"), Of(damaged, "demo"));
        Assert.NotEqual(Of(before, "rival"), Of(damaged, "rival"));

        var done = await Rebuild();
        Assert.True(done.GetProperty("status").GetString() == RebuildStatus.Succeeded, done.ToString());
        var total = done.GetProperty("total").GetInt64();
        Assert.Equal(await App.Scalar("select count(*) from enate.mt_events where tenant_id = 'demo'"), total);
        Assert.Equal(total, done.GetProperty("eventsProcessed").GetInt64());
        Assert.Equal(1, done.GetProperty("orphansDeleted").GetInt64());
        Assert.Equal(ReadModelNames().Order(), done.GetProperty("projections").EnumerateArray().Select(p => p.GetString()!).Order());
        var after = await ReadModels();
        AssertSame(Of(before, "demo"), Of(after, "demo"));
        AssertSame(Of(damaged, "rival"), Of(after, "rival"));

        // The other tenant's admin rebuilds its own.
        done = await Rebuild(_rival);
        Assert.True(done.GetProperty("status").GetString() == RebuildStatus.Succeeded, done.ToString());
        Assert.Equal(1, done.GetProperty("orphansDeleted").GetInt64());
        AssertSame(before, await ReadModels());
    }

    [Fact]
    public async Task every_row_comes_back_column_by_column_as_the_live_projections_wrote_it()
    {
        await ArrangeHistory();
        var before = await Rows();
        Assert.Contains(before, r => r.Contains("\"mt_dotnet_type\""));

        var done = await Rebuild();
        Assert.True(done.GetProperty("status").GetString() == RebuildStatus.Succeeded, done.ToString());
        var after = await Rows();
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++) Assert.True(before[i] == after[i], $"expected: {before[i]}\nactual:   {after[i]}");
    }

    /// Every row of every read model's table in the tests' tenants, every column but the moment it was written. A
    /// document's revision is its mt_version column (loading sets the mapped property from it); the copy inside its
    /// JSON is whatever the writer's object held then, and is not compared.
    private async Task<List<string>> Rows()
    {
        var rows = new List<string>();
        foreach (var type in ReadModelTypes())
        {
            var table = App.Store.Options.FindOrResolveDocumentType(type).TableName.QualifiedName;
            await using var connection = new NpgsqlConnection(App.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                $"select ((to_jsonb(t) - 'mt_last_modified') #- '{{data,version}}')::text from {table} t where tenant_id = any(@tenants) order by tenant_id, id", connection);
            command.Parameters.AddWithValue("tenants", Tenants);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add($"{type.Name}: {reader.GetString(0)}");
        }
        return rows;
    }

    private static SortedDictionary<string, string> Of(SortedDictionary<string, string> models, string tenant) =>
        new(models.Where(m => m.Key.Contains($"/{tenant}/")).ToDictionary(), StringComparer.Ordinal);

    private static void AssertSame(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, json) in expected) Assert.True(actual[key] == json, $"{key}\nexpected: {json}\nactual:   {actual[key]}");
    }

    [Fact]
    public async Task runs_requested_during_a_rebuild_keep_read_models_that_match_their_events()
    {
        await ArrangeHistory();
        var deadBefore = await App.Scalar(DeadLetters);
        using var stop = new CancellationTokenSource();
        var requested = new List<Guid>();
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 5; i++) requested.Add(await Api.RequestRun("echo", new { during = i }));
        });
        await Task.Delay(200);
        var done = await Rebuild();
        await stop.CancelAsync();
        await traffic;
        Assert.True(done.GetProperty("status").GetString() == RebuildStatus.Succeeded, done.ToString());
        foreach (var id in requested) await Api.WaitForRun(id, RunStatus.Succeeded);
        // Live appends never met a vanished document (a run summary projected from a later event alone fails to save).
        Assert.Equal(deadBefore, await App.Scalar(DeadLetters));

        // Every document equals a fresh projection of its own stream's events, and no stream lacks its document.
        await using var session = App.Store.QuerySession("demo");
        var serializer = App.Store.Options.Serializer();
        foreach (var summary in await session.Query<RunSummary>().ToListAsync())
        {
            var projected = await session.Events.AggregateStreamAsync<RunSummary>(summary.Id);
            Assert.Equal(serializer.ToJson(projected), serializer.ToJson(summary));
        }
        Assert.Equal(await App.Scalar("select count(*) from enate.mt_events where type = 'run_requested' and tenant_id = 'demo'"),
            await session.Query<RunSummary>().CountAsync());
        Assert.Equal(await App.Scalar("select count(*) from enate.mt_events where type = 'inbound_request_recorded' and tenant_id = 'demo'"),
            await session.Query<InboundRequest>().CountAsync());
    }

    [Fact]
    public async Task a_second_rebuild_of_a_tenant_while_one_runs_is_409_problem_json_and_another_tenant_may_rebuild()
    {
        // Another replica's rebuild of tenant demo holds its lock.
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using (var hold = new NpgsqlCommand($"select pg_advisory_lock({ProjectionRebuilder.LockKeyFor("demo")})", connection))
            await hold.ExecuteNonQueryAsync();

        var result = await Api.Scenario(s =>
        {
            s.Post.Url("/api/v1/admin/projections/rebuild");
            s.StatusCodeShouldBe(HttpStatusCode.Conflict);
        });
        Assert.StartsWith("application/problem+json", result.Context.Response.ContentType);
        Assert.Contains("rebuild-running", await result.ReadAsTextAsync());

        var rival = await Rebuild(_rival);
        Assert.True(rival.GetProperty("status").GetString() == RebuildStatus.Succeeded, rival.ToString());
    }

    [Fact]
    public async Task only_an_admin_starts_or_reads_one_and_another_tenant_cannot_see_it()
    {
        var narrow = await App.SeedKeyAsync("demo", Scopes.AuditRead, Scopes.ReplayWrite, Scopes.RunsRead);
        await Api.Scenario(s =>
        {
            s.Post.Url("/api/v1/admin/projections/rebuild");
            s.WithRequestHeader("Authorization", $"Bearer {narrow}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });

        var done = await Rebuild();
        var url = $"/api/v1/admin/projections/rebuild/{done.GetProperty("id").GetGuid()}";
        Assert.Contains("bootstrap", done.GetProperty("requestedBy").GetString());
        await Api.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithRequestHeader("Authorization", $"Bearer {narrow}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
        await Api.Scenario(s =>
        {
            s.Get.Url(url);
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
        await Api.Scenario(s =>
        {
            s.Get.Url($"/api/v1/admin/projections/rebuild/{Guid.NewGuid()}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    /// Runs that succeeded, failed, were replay (a link on both sides), and rejected inbound requests, in two tenants.
    private async Task ArrangeHistory()
    {
        await Api.PutEchoRecipe("echo");
        await Api.PutBroken("broken");
        var ok = await Api.RequestRun("echo", new { amount = 343.00m, note = "é \"quoted\"" });
        var failed = await Api.RequestRun("broken", new { n = 1 });
        await Api.WaitForRun(ok, RunStatus.Succeeded);
        await Api.WaitForRun(failed, RunStatus.Failed);
        await Api.WaitForRun(await Api.ReplayRun(ok, "original", "a replay links both runs"), RunStatus.Succeeded);
        await Api.Scenario(s =>
        {
            s.Post.Json(new { }).ToUrl("/api/v1/recipes/missing/runs");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });

        await Api.Scenario(s =>
        {
            s.Put.Json(new { name = "Rival's", trigger = new { type = "api" }, steps = new[] { new { id = "a", type = "transform", select = "input" } } })
                .ToUrl("/api/v1/recipes/echo");
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        var rival = await Api.Scenario(s =>
        {
            s.Post.Json(new { rival = true }).ToUrl("/api/v1/recipes/echo/runs");
            s.WithRequestHeader("Authorization", $"Bearer {_rival}");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var rivalRun = rival.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        await Eventually.Get(async () =>
        {
            await using var session = App.Store.QuerySession("rival");
            return await session.LoadAsync<RunSummary>(rivalRun);
        }, r => r?.Status == RunStatus.Succeeded);
    }

    /// A rebuild asked for with this key (the bootstrap admin's, of tenant demo, by default), once it has ended.
    private async Task<JsonElement> Rebuild(string? key = null)
    {
        var accepted = await Api.Scenario(s =>
        {
            s.Post.Url("/api/v1/admin/projections/rebuild");
            if (key is not null) s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var id = accepted.ReadAsJson<JsonElement>().GetProperty("rebuildId").GetGuid();
        Assert.Equal($"/api/v1/admin/projections/rebuild/{id}", accepted.Context.Response.Headers.Location.ToString());
        return await Eventually.Get(async () => (await Api.Scenario(s =>
            {
                s.Get.Url($"/api/v1/admin/projections/rebuild/{id}");
                if (key is not null) s.WithRequestHeader("Authorization", $"Bearer {key}");
            })).ReadAsJson<JsonElement>(),
            r => r.GetProperty("status").GetString() != RebuildStatus.Running, TimeSpan.FromSeconds(60));
    }

    private List<Type> ReadModelTypes() =>
        App.Store.Options.Events.Projections().OfType<IPublishesTypes>().SelectMany(p => p.PublishedTypes()).Distinct().ToList();

    private IReadOnlyList<string> ReadModelNames() => App.Store.Options.Events.Projections().Select(p => p.Name).ToList();

    /// Every document of every read model the store projects, per tenant, as stored JSON keyed by type/tenant/id.
    private async Task<SortedDictionary<string, string>> ReadModels()
    {
        var types = ReadModelTypes();
        Assert.Contains(typeof(RunSummary), types);
        Assert.Contains(typeof(InboundRequest), types);
        var all = typeof(when_projections_are_rebuilt).GetMethod(nameof(Documents), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
        var serializer = App.Store.Options.Serializer();
        var models = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var type in types)
        foreach (var tenant in Tenants)
        {
            await using var session = App.Store.QuerySession(tenant);
            foreach (var doc in await (Task<List<object>>)all.MakeGenericMethod(type).Invoke(null, [session])!)
            {
                var json = serializer.ToJson(doc);
                models[$"{type.Name}/{tenant}/{JsonDocument.Parse(json).RootElement.GetProperty("id")}"] = json;
            }
        }
        return models;
    }

    private static async Task<List<object>> Documents<T>(IQuerySession session) where T : notnull =>
        (await session.Query<T>().ToListAsync()).Cast<object>().ToList();

    private static string Id(string key) => key[(key.LastIndexOf('/') + 1)..];

    private async Task Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

public static class ScalarCalls
{
    public static async Task<long> Scalar(this AppFixture app, string sql)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
