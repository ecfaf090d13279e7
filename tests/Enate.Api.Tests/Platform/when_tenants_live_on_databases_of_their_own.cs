using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Domain.Audit;
using Enate.Domain.Runs;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Platform;

/// Tenants placed on databases of their own (`Enate:Tenancy`, docs/operations.md), one on a second PostgreSQL server and
/// one on another database of the platform's server: their runs, audit chains, exports and verifications work there as
/// on the platform database, nothing of a tenant — event, read model, queue message, chain link, connection — is in
/// any other database, and the platform database keeps only the platform's own records (tenants, keys).
public sealed class when_tenants_live_on_databases_of_their_own
{
    private const string Placed = "acme";

    [Fact]
    public async Task each_tenants_runs_chain_and_export_are_in_its_own_database()
    {
        await using var platformDatabase = await TestDatabase.StartAsync();
        await using var tenantDatabase = await TestDatabase.StartAsync("tenants");
        Assert.NotEqual(Server(platformDatabase.ConnectionString), Server(tenantDatabase.ConnectionString));
        var beside = new NpgsqlConnectionStringBuilder(platformDatabase.ConnectionString) { Database = "enate_us" }.ConnectionString;
        await using (var admin = NpgsqlDataSource.Create(platformDatabase.ConnectionString))
        await using (var create = admin.CreateCommand("create database enate_us"))
            await create.ExecuteNonQueryAsync();
        var settings = new Dictionary<string, string>
        {
            ["Enate:Tenancy:Databases:eu"] = tenantDatabase.ConnectionString,
            ["Enate:Tenancy:Databases:us"] = beside,
            [$"Enate:Tenancy:Tenants:{Placed}"] = "eu",
            ["Enate:Tenancy:Tenants:demo"] = "us",
            ["Enate:Audit:CheckpointEvery"] = "00:00:01",
        };
        var logs = new CapturedLogs();
        await using var api = await AppFixture.StartApiAsync(platformDatabase.ConnectionString, logs, settings);
        var workers = await AppFixture.StartWorkersAsync(platformDatabase.ConnectionString, logs, settings);
        await using var partner = await TestPartner.StartAsync();
        try
        {
            var created = await Call(api, AppFixture.OperatorKey, s => s.Post.Json(new { id = Placed, name = "Acme Ltd" }).ToUrl("/api/v1/tenants"));
            var placedKey = created.GetProperty("adminKey").GetProperty("key").GetString()!;

            // Each tenant: a connection with a secret, a recipe that calls the partner, and three runs.
            var runs = new Dictionary<string, List<Guid>>();
            foreach (var (tenant, key) in new[] { ("demo", AppFixture.AdminKey), (Placed, placedKey) })
            {
                await Call(api, key, s => s.Put.Json(new
                {
                    kind = "http", baseUrl = partner.BaseUrl, timeoutSeconds = 5,
                    auth = new { type = "bearer", token = $"secret-of-{tenant}" },
                }).ToUrl("/api/v1/connections/erp"));
                await Call(api, key, s => s.Put.Json(new
                {
                    name = "Order to ERP", trigger = new { type = "api" },
                    steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = $"/{tenant}/orders", body = "{{ input | json }}" } },
                }).ToUrl("/api/v1/recipes/order"));
                runs[tenant] = [];
                for (var i = 0; i < 3; i++)
                    runs[tenant].Add((await Call(api, key, s => s.Post.Json(new { tenant, i }).ToUrl("/api/v1/recipes/order/runs"))).GetProperty("runId").GetGuid());
            }
            foreach (var (tenant, key) in new[] { ("demo", AppFixture.AdminKey), (Placed, placedKey) })
            foreach (var run in runs[tenant])
                await Eventually.Get(() => Call(api, key, s => s.Get.Url($"/api/v1/runs/{run}")), r => r.GetProperty("status").GetString() == RunStatus.Succeeded);
            Assert.Equal(3, partner.Requests.Count(r => r.Path == "/demo/orders" && r.Headers["Authorization"] == "Bearer secret-of-demo"));
            Assert.Equal(3, partner.Requests.Count(r => r.Path == $"/{Placed}/orders" && r.Headers["Authorization"] == $"Bearer secret-of-{Placed}"));
            // Another tenant's run is not there for the placed tenant, wherever it lives.
            Assert.Equal(404, await Status(api, placedKey, s => s.Get.Url($"/api/v1/runs/{runs["demo"][0]}")));

            // The audit chain of each, verified and exported from its own database.
            foreach (var (tenant, key) in new[] { ("demo", AppFixture.AdminKey), (Placed, placedKey) })
            {
                var verified = await Eventually.Get(() => Call(api, key, s => s.Get.Url("/api/v1/audit/verify")),
                    v => v.GetProperty("unchained").GetInt64() == 0 && v.GetProperty("checked").GetInt64() > 0);
                Assert.True(verified.GetProperty("ok").GetBoolean(), verified.ToString());
                var checkpoint = await Call(api, key, s => s.Post.Url("/api/v1/audit/checkpoints"));
                Assert.Equal(tenant, checkpoint.GetProperty("tenant").GetString());
                var export = await api.Scenario(s =>
                {
                    s.Get.Url("/api/v1/audit/export");
                    s.WithRequestHeader("Authorization", $"Bearer {key}");
                });
                var lines = (await export.ReadAsTextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(l => !l.StartsWith("{\"checkpoint\"")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
                Assert.Equal(verified.GetProperty("checked").GetInt64(), lines.Count);
                Assert.All(lines, l => Assert.Equal(tenant, l.GetProperty("tenant").GetString()));
                Assert.Equal(3, lines.Count(l => l.GetProperty("type").GetString() == "run_succeeded"));
            }

            // The rest of what a tenant does runs there too: a schedule fires, a failed run is notified, the failure is
            // re-run in bulk, and the read models are rebuilt from the tenant's own events.
            await Call(api, placedKey, s => s.Put.Json(new
            {
                name = "Tick", trigger = new { type = "schedule", cron = "* * * * * *" },
                steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
            }).ToUrl("/api/v1/recipes/tick"));
            await Eventually.Get(() => Call(api, placedKey, s => s.Get.Url("/api/v1/runs?recipe=tick")),
                page => page.GetProperty("items").EnumerateArray().Any(r => r.GetProperty("status").GetString() == RunStatus.Succeeded));
            await Call(api, placedKey, s => s.Post.Url("/api/v1/recipes/tick/deactivate"));

            await Call(api, placedKey, s => s.Post.Json(new { url = partner.BaseUrl + "/notified", types = new[] { "run.failed" } })
                .ToUrl("/api/v1/notifications/endpoints"));
            partner.Then(400, """{"error":"no"}""");
            var failing = (await Call(api, placedKey, s => s.Post.Json(new { tenant = Placed, i = 9 }).ToUrl("/api/v1/recipes/order/runs"))).GetProperty("runId").GetGuid();
            await Eventually.Get(() => Call(api, placedKey, s => s.Get.Url($"/api/v1/runs/{failing}")), r => r.GetProperty("status").GetString() == RunStatus.Failed);
            var notified = await Eventually.Get(() => Task.FromResult(partner.Requests.Where(r => r.Path == "/notified").ToList()), r => r.Count == 1);
            Assert.Contains(failing.ToString(), notified[0].Body);

            var replay = (await Call(api, placedKey, s => s.Post.Json(new { filter = new { recipe = "order", status = "failed" }, recipeVersion = "latest", reason = "the partner is back" })
                .ToUrl("/api/v1/replays"))).GetProperty("replayId").GetGuid();
            var replayed = await Eventually.Get(() => Call(api, placedKey, s => s.Get.Url($"/api/v1/replays/{replay}")),
                r => r.GetProperty("status").GetString() == "completed");
            Assert.Equal(1, replayed.GetProperty("succeeded").GetInt32());

            var rebuildId = (await Call(api, placedKey, s => s.Post.Url("/api/v1/admin/projections/rebuild"))).GetProperty("rebuildId").GetGuid();
            var rebuilt = await Eventually.Get(() => Call(api, placedKey, s => s.Get.Url($"/api/v1/admin/projections/rebuild/{rebuildId}")),
                r => r.GetProperty("status").GetString() != "running");
            Assert.True(rebuilt.GetProperty("status").GetString() == "succeeded", rebuilt.ToString());
            Assert.True(rebuilt.GetProperty("total").GetInt64() > 0);

            // Where the rows are: each tenant's only in its own database, none in the platform's.
            await using var onPlatform = NpgsqlDataSource.Create(platformDatabase.ConnectionString);
            await using var onTenants = NpgsqlDataSource.Create(tenantDatabase.ConnectionString);
            await using var onBeside = NpgsqlDataSource.Create(beside);
            foreach (var table in new[] { $"{EnateStore.Schema}.mt_events", $"{EnateStore.Schema}.mt_doc_runsummary", $"{EnateStore.Schema}.mt_doc_connection", AuditChain.Table })
            {
                Assert.Equal(0, await CountAsync(onPlatform, $"select count(*) from {table}"));
                Assert.True(await CountAsync(onTenants, $"select count(*) from {table} where tenant_id = '{Placed}'") > 0, table);
                Assert.Equal(0, await CountAsync(onTenants, $"select count(*) from {table} where tenant_id <> '{Placed}'"));
                Assert.True(await CountAsync(onBeside, $"select count(*) from {table} where tenant_id = 'demo'") > 0, table);
                Assert.Equal(0, await CountAsync(onBeside, $"select count(*) from {table} where tenant_id <> 'demo'"));
            }
            // The tenant and its keys are the platform's records.
            Assert.Equal(1, await CountAsync(onPlatform, $"select count(*) from {EnateStore.Schema}.mt_doc_tenant where id = '{Placed}'"));
            Assert.Equal(0, await CountAsync(onTenants, $"select count(*) from {EnateStore.Schema}.mt_doc_apikey"));
            Assert.Equal(0, await CountAsync(onBeside, $"select count(*) from {EnateStore.Schema}.mt_doc_apikey"));
            // The placed tenant's queue messages went through its own database's queue and inbox.
            Assert.True(await CountAsync(onTenants, $"select count(*) from {EnateStore.WolverineSchema}.wolverine_incoming_envelopes") > 0);
            Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Error") || l.StartsWith("Critical"));
        }
        finally
        {
            await workers.StopAsync();
            await workers.DisposeAsync();
        }
    }

    [Fact]
    public async Task a_tenant_moved_to_another_database_keeps_its_runs_and_its_verified_chain()
    {
        await using var platformDatabase = await TestDatabase.StartAsync();
        await using var tenantDatabase = await TestDatabase.StartAsync("tenants");
        var configured = new Dictionary<string, string>
        {
            ["Enate:Tenancy:Databases:eu"] = tenantDatabase.ConnectionString,
            ["Enate:Audit:CheckpointEvery"] = "00:00:01",
        };
        await using var partner = await TestPartner.StartAsync();
        var api = await AppFixture.StartApiAsync(platformDatabase.ConnectionString, settings: configured);
        var workers = await AppFixture.StartWorkersAsync(platformDatabase.ConnectionString, settings: configured);
        var created = await Call(api, AppFixture.OperatorKey, s => s.Post.Json(new { id = Placed, name = "Acme Ltd" }).ToUrl("/api/v1/tenants"));
        var key = created.GetProperty("adminKey").GetProperty("key").GetString()!;
        await Call(api, key, s => s.Put.Json(new { kind = "http", baseUrl = partner.BaseUrl, timeoutSeconds = 5, auth = new { type = "bearer", token = "moved-secret" } })
            .ToUrl("/api/v1/connections/erp"));
        await Call(api, key, s => s.Put.Json(new
        {
            name = "Order to ERP", trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        }).ToUrl("/api/v1/recipes/order"));
        for (var i = 0; i < 3; i++)
        {
            var run = (await Call(api, key, s => s.Post.Json(new { i }).ToUrl("/api/v1/recipes/order/runs"))).GetProperty("runId").GetGuid();
            await Eventually.Get(() => Call(api, key, s => s.Get.Url($"/api/v1/runs/{run}")), r => r.GetProperty("status").GetString() == RunStatus.Succeeded);
        }
        var before = await Eventually.Get(() => Call(api, key, s => s.Get.Url("/api/v1/audit/verify")), v => v.GetProperty("unchained").GetInt64() == 0);
        Assert.True(before.GetProperty("ok").GetBoolean(), before.ToString());
        await Call(api, key, s => s.Post.Url("/api/v1/audit/checkpoints"));

        // A tenant still taking triggers is not moved.
        var (refusedCode, refused) = await WorkerProcess.RunAsync("Enate.Api", platformDatabase.ConnectionString, AsEnvironment(configured), "move-tenant", Placed, "eu");
        Assert.NotEqual(0, refusedCode);
        Assert.Contains("disable it first", refused);

        await Call(api, AppFixture.OperatorKey, s => s.Post.Url($"/api/v1/tenants/{Placed}/disable"));
        await workers.StopAsync();
        await workers.DisposeAsync();
        await api.DisposeAsync();
        var (code, output) = await WorkerProcess.RunAsync("Enate.Api", platformDatabase.ConnectionString, AsEnvironment(configured), "move-tenant", Placed, "eu");
        Assert.True(code == 0, output);

        var placed = new Dictionary<string, string>(configured) { [$"Enate:Tenancy:Tenants:{Placed}"] = "eu" };
        api = await AppFixture.StartApiAsync(platformDatabase.ConnectionString, settings: placed);
        workers = await AppFixture.StartWorkersAsync(platformDatabase.ConnectionString, settings: placed);
        try
        {
            await Call(api, AppFixture.OperatorKey, s => s.Post.Url($"/api/v1/tenants/{Placed}/enable"));
            // The same chain, the same head, and the witness's checkpoint still on it.
            var after = await Call(api, key, s => s.Get.Url("/api/v1/audit/verify"));
            Assert.True(after.GetProperty("ok").GetBoolean(), after.ToString());
            Assert.Equal(before.GetProperty("checked").GetInt64(), after.GetProperty("checked").GetInt64());
            Assert.Equal(before.GetProperty("headHash").GetString(), after.GetProperty("headHash").GetString());
            Assert.Equal(3, (await Call(api, key, s => s.Get.Url("/api/v1/runs?recipe=order"))).GetProperty("items").GetArrayLength());
            // It goes on working there, its connection's secret with it, and its chain goes on from where it was.
            var next = (await Call(api, key, s => s.Post.Json(new { i = 3 }).ToUrl("/api/v1/recipes/order/runs"))).GetProperty("runId").GetGuid();
            await Eventually.Get(() => Call(api, key, s => s.Get.Url($"/api/v1/runs/{next}")), r => r.GetProperty("status").GetString() == RunStatus.Succeeded);
            Assert.Equal(4, partner.Requests.Count(r => r.Headers["Authorization"] == "Bearer moved-secret"));
            var chained = await Eventually.Get(() => Call(api, key, s => s.Get.Url("/api/v1/audit/verify")),
                v => v.GetProperty("unchained").GetInt64() == 0 && v.GetProperty("checked").GetInt64() > before.GetProperty("checked").GetInt64());
            Assert.True(chained.GetProperty("ok").GetBoolean(), chained.ToString());

            await using var onPlatform = NpgsqlDataSource.Create(platformDatabase.ConnectionString);
            await using var onTenants = NpgsqlDataSource.Create(tenantDatabase.ConnectionString);
            foreach (var table in new[] { $"{EnateStore.Schema}.mt_events", $"{EnateStore.Schema}.mt_doc_runsummary", $"{EnateStore.Schema}.mt_doc_connection", AuditChain.Table })
            {
                Assert.Equal(0, await CountAsync(onPlatform, $"select count(*) from {table} where tenant_id = '{Placed}'"));
                Assert.True(await CountAsync(onTenants, $"select count(*) from {table} where tenant_id = '{Placed}'") > 0, table);
            }
        }
        finally
        {
            await workers.StopAsync();
            await workers.DisposeAsync();
            await api.DisposeAsync();
        }
    }

    [Fact]
    public async Task a_placed_tenants_run_survives_a_killed_workers_process()
    {
        await using var platformDatabase = await TestDatabase.StartAsync();
        await using var tenantDatabase = await TestDatabase.StartAsync("tenants");
        var settings = new Dictionary<string, string>
        {
            ["Enate:Tenancy:Databases:eu"] = tenantDatabase.ConnectionString,
            ["Enate:Tenancy:Tenants:demo"] = "eu",
        };
        await using var api = await AppFixture.StartApiAsync(platformDatabase.ConnectionString, settings: settings);
        await using var partner = await TestPartner.StartAsync();
        await api.PutConnection("erp", partner.BaseUrl);
        await api.PutRecipe("slow", new
        {
            name = "Slow partner", trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });

        // The run's message waits in the tenant's database, its inbox row there too when the process that took it dies:
        // the next process recovers it from there, and the call is repeated under the same key.
        partner.Gate = new SemaphoreSlim(0);
        var first = WorkerProcess.Start(platformDatabase.ConnectionString, "Enate.Workers", FreePorts.Next(), AsEnvironment(settings));
        var runId = await api.RequestRun("slow", new { order = 1 });
        await Eventually.Get(() => Task.FromResult(partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        partner.Gate.Release(100);
        await using var second = WorkerProcess.Start(platformDatabase.ConnectionString, "Enate.Workers", FreePorts.Next(), AsEnvironment(settings));
        await api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(3));

        Assert.Equal([$"{runId}:post"], partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
        await using var onTenants = NpgsqlDataSource.Create(tenantDatabase.ConnectionString);
        Assert.True(await CountAsync(onTenants, $"select count(*) from {EnateStore.Schema}.mt_events where stream_id = '{runId}'") > 0);
        await using var onPlatform = NpgsqlDataSource.Create(platformDatabase.ConnectionString);
        Assert.Equal(0, await CountAsync(onPlatform, $"select count(*) from {EnateStore.Schema}.mt_events"));
    }

    /// Settings as a process reads them from its environment.
    private static Dictionary<string, string> AsEnvironment(Dictionary<string, string> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__"), s => s.Value);

    private static string Server(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}";
    }

    private static async Task<long> CountAsync(NpgsqlDataSource database, string sql)
    {
        await using var command = database.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<JsonElement> Call(IAlbaHost api, string key, Action<Scenario> request)
    {
        var result = await api.Scenario(s =>
        {
            request(s);
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.IgnoreStatusCode();
        });
        var status = result.Context.Response.StatusCode;
        Assert.True(status is >= 200 and < 300, $"{status}: {await result.ReadAsTextAsync()}");
        return status == 204 ? default : result.ReadAsJson<JsonElement>();
    }

    private static async Task<int> Status(IAlbaHost api, string key, Action<Scenario> request) =>
        (await api.Scenario(s =>
        {
            request(s);
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.IgnoreStatusCode();
        })).Context.Response.StatusCode;
}
