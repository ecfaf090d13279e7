extern alias api;
extern alias workers;
using System.Diagnostics;
using System.Net.Http.Json;
using Alba;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using workers::Enate.Workers.Platform;

namespace Enate.Benchmarks;

/// The engine's cost per step: runs of a 1-step and a 6-step recipe, the difference divided by the extra steps — for
/// no-op transforms (pure steps, which share their run's commit) and for calls to a loopback partner
/// that answers at once (each call's outcome is committed before the next call). Baseline: one committed single-row
/// INSERT, the least a durably recorded step can cost.
public static class EngineBenchmark
{
    private const string BenchKey = "engine-benchmark-admin-key-0001";

    public static async Task<IEnumerable<Result>> RunAsync(bool smoke)
    {
        // Commits wait for neither the disk nor the WAL write, for the platform's steps and the baseline's INSERT alike.
        await using var database = await TestDatabase.StartAsync("bench", settings: new Dictionary<string, string> { ["synchronous_commit"] = "off" });
        JasperFxEnvironment.AutoStartHost = true;
        await using var api = await AlbaHost.For<api::Program>(web =>
        {
            web.UseEnvironment("Benchmark");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", database.ConnectionString);
            web.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            web.UseSetting("Enate:Bootstrap:ApiKey", BenchKey);
            web.UseSetting("Enate:RateLimits:PerKeyPerSecond", "1000000");
            web.UseSetting("Enate:RateLimits:PerTenantPerSecond", "1000000");
            web.UseSetting("Enate:Outbound:Allow:0", "127.0.0.0/8");
            web.UseSetting("Enate:DataProtection:KeyEncryptionKey", WorkerProcess.KeyEncryptionKey);
            web.UseSetting("Enate:PublicUrl", "http://127.0.0.1");
        });
        var workerBuilder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Benchmark" });
        workerBuilder.Configuration[$"ConnectionStrings:{EnateStore.DatabaseName}"] = database.ConnectionString;
        workerBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        workerBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
        workerBuilder.Configuration["Enate:Outbound:Allow:0"] = "127.0.0.0/8";
        workerBuilder.Configuration["Enate:DataProtection:KeyEncryptionKey"] = WorkerProcess.KeyEncryptionKey;
        workerBuilder.AddWorkers();
        await using var workers = workerBuilder.Build();
        await workers.StartAsync();

        var client = api.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", BenchKey);
        await using var partner = await StartPartnerAsync();
        (await client.PutAsJsonAsync("/api/v1/connections/noop", new { kind = "http", baseUrl = partner.Urls.First(), auth = new { type = "none" }, timeoutSeconds = 10 }))
            .EnsureSuccessStatusCode();
        object Transform(int i) => new { id = $"s{i}", type = "transform", select = "input" };
        object Call(int i) => new { id = $"c{i}", type = "http", connection = "noop", method = "POST", path = "/noop", body = "{}" };
        await PutRecipe(client, "one", 1, Transform);
        await PutRecipe(client, "six", 6, Transform);
        await PutRecipe(client, "one-call", 1, Call);
        await PutRecipe(client, "six-calls", 6, Call);
        var runs = smoke ? 5 : 200;

        await Execute(client, database.ConnectionString, "one", 5);
        await Execute(client, database.ConnectionString, "one-call", 5);
        var one = await Execute(client, database.ConnectionString, "one", runs);
        var six = await Execute(client, database.ConnectionString, "six", runs);
        var oneCall = await Execute(client, database.ConnectionString, "one-call", runs);
        var sixCalls = await Execute(client, database.ConnectionString, "six-calls", runs);
        var perStep = (six - one) / (5.0 * runs);
        var perCall = (sixCalls - oneCall) / (5.0 * runs);
        var insert = await InsertBaseline(database.ConnectionString, smoke ? 20 : 1000);

        await workers.StopAsync();
        return
        [
            new Result("engine: overhead per pure step (no-op transform)", $"{perStep.TotalMilliseconds:0.00} ms",
                $"one committed INSERT: {insert.TotalMilliseconds:0.00} ms", perStep > TimeSpan.Zero ? insert / perStep : 0,
                $"{runs} runs each of 1 and 6 steps, sequential requests, Workers in-process; 1-step run end to end {(one / runs).TotalMilliseconds:0.0} ms; pure steps share their run's commit, so this is their own work (near zero, at times below the noise)"),
            new Result("engine: overhead per call step (loopback partner)", $"{perCall.TotalMilliseconds:0.00} ms",
                $"one committed INSERT: {insert.TotalMilliseconds:0.00} ms", perCall > TimeSpan.Zero ? insert / perCall : 0,
                $"{runs} runs each of 1 and 6 calls to a partner on this machine that answers 200 at once; each call's outcome committed before the next; 1-call run end to end {(oneCall / runs).TotalMilliseconds:0.0} ms"),
        ];
    }

    private static async Task PutRecipe(HttpClient client, string key, int steps, Func<int, object> step)
    {
        var definition = new { name = key, trigger = new { type = "api" }, steps = Enumerable.Range(0, steps).Select(step).ToArray() };
        (await client.PutAsJsonAsync($"/api/v1/recipes/{key}", definition)).EnsureSuccessStatusCode();
    }

    /// A partner that answers every call at once, so a call step's figure is the engine's, not the partner's.
    private static async Task<WebApplication> StartPartnerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{FreePorts.Next()}");
        builder.Logging.ClearProviders();
        var partner = builder.Build();
        partner.MapPost("/noop", () => Microsoft.AspNetCore.Http.Results.Ok(new { }));
        await partner.StartAsync();
        return partner;
    }

    private static async Task<TimeSpan> Execute(HttpClient client, string connectionString, string key, int runs)
    {
        var before = await Succeeded(connectionString);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++) (await client.PostAsJsonAsync($"/api/v1/recipes/{key}/runs", new { i })).EnsureSuccessStatusCode();
        while (await Succeeded(connectionString) < before + runs) await Task.Delay(20);
        return watch.Elapsed;
    }

    private static async Task<long> Succeeded(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from enate.mt_events where type = 'run_succeeded'", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private static async Task<TimeSpan> InsertBaseline(string connectionString, int rows)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("create table if not exists bench_baseline (id bigserial primary key, body jsonb)", connection))
            await create.ExecuteNonQueryAsync();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < rows; i++)
        {
            await using var insert = new NpgsqlCommand("insert into bench_baseline (body) values (@body::jsonb)", connection);
            insert.Parameters.AddWithValue("body", $"{{\"i\":{i}}}");
            await insert.ExecuteNonQueryAsync();
        }
        return watch.Elapsed / rows;
    }
}
