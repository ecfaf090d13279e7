using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Enate.Benchmarks;

/// A bulk re-run end to end: runs whose partner answered 400 (a 4xx fails a run at once), then, the partner healthy,
/// POST /api/v1/replays selecting them, until the job reports completed; beside as many fresh runs of the same
/// recipe started through the run trigger with the partner healthy. Real API and Workers processes.
/// Its fairness: live runs paced at a modest rate, their latency (request sent → partner reached) alone and while the
/// bulk re-run goes on.
public static class RerunBenchmark
{
    private const int Senders = 16;
    private const double LiveRate = 20;

    public static async Task<IEnumerable<Result>> RunAsync(BenchPlatform platform, int runs, bool smoke)
    {
        await using var partner = await Partner.StartAsync();
        (await platform.Client.PutAsJsonAsync("/api/v1/connections/partner",
            new { kind = "http", baseUrl = partner.Url, auth = new { type = "none" }, timeoutSeconds = 10 })).EnsureSuccessStatusCode();
        foreach (var key in new[] { "warm", "flaky", "fresh" }) await PutRecipeAsync(platform, key, "/deliver");
        await PutRecipeAsync(platform, "live", "/live");

        // Both sides warm: fresh runs, and a bulk re-run of a few failed ones (its code is otherwise compiled while measured).
        var warmRuns = Math.Min(runs, 200);
        await TriggerAsync(platform, "warm", warmRuns, "succeeded");
        partner.Failing = true;
        await TriggerAsync(platform, "warm", warmRuns, "failed");
        var failing = await TriggerAsync(platform, "flaky", runs, "failed");
        partner.Failing = false;
        await ReplayAsync(platform, "warm");
        var cpu = new CpuPerRun(platform);
        await Statements.ResetAsync(platform.ConnectionString);
        var fresh = await TriggerAsync(platform, "fresh", runs, "succeeded");
        var freshCpu = cpu.Per(runs);
        await Statements.PrintAsync(platform.ConnectionString, $"{runs:N0} fresh runs");

        var live = new LiveRuns(platform, partner);
        await live.PaceAsync(TimeSpan.FromSeconds(smoke ? 1 : 5), CancellationToken.None);
        var alone = await live.PaceAsync(TimeSpan.FromSeconds(smoke ? 2 : 45), CancellationToken.None);

        using var replaying = new CancellationTokenSource();
        var beside = live.PaceAsync(TimeSpan.FromHours(1), replaying.Token);
        cpu = new CpuPerRun(platform);
        await Statements.ResetAsync(platform.ConnectionString);
        var (job, rerun) = await ReplayAsync(platform, "flaky");
        await replaying.CancelAsync();
        var rerunCpu = cpu.Per(runs);
        await Statements.PrintAsync(platform.ConnectionString, $"the bulk re-run of {runs:N0} runs");
        var during = await beside;
        if (job.GetProperty("succeeded").GetInt32() != runs) throw new InvalidOperationException($"The bulk re-run ended: {job}");

        return
        [
            new Result($"replay: bulk re-run of {runs:N0} failed runs (POST /api/v1/replays)", $"{runs / rerun.TotalSeconds:N0} runs/s",
                $"{runs:N0} fresh runs through the run trigger: {runs / fresh.TotalSeconds:N0} runs/s", fresh / rerun,
                $"job created → completed in {rerun.TotalSeconds:N1} s, all {runs:N0} re-runs succeeded; one HTTP step to a local partner; " +
                $"at most {job.GetProperty("concurrency").GetInt32()} re-runs unfinished, taken from the replay queue beside live runs " +
                $"paced at {LiveRate:N0}/s; baseline: {Senders} senders, first request → last run finished; the failing runs took " +
                $"{failing.TotalSeconds:N0} s ({runs / failing.TotalSeconds:N0} runs/s); CPU per run re-run {rerunCpu}, fresh {freshCpu} " +
                $"(the re-run's side includes the live runs beside it)"),
            new Result($"replay: live runs during the bulk re-run, {LiveRate:N0}/s (p99)", $"p50 {during.P50:N1} ms, p99 {during.P99:N1} ms",
                $"the same live runs alone: p50 {alone.P50:N1} ms, p99 {alone.P99:N1} ms", during.P99 / alone.P99,
                $"request sent → partner reached, paced open loop; {during.Count:N0} live runs beside the re-run, {alone.Count:N0} alone " +
                $"just before (after 5 s not counted); both sides warmed by 200 runs and a bulk re-run of 200; p50 ratio {during.P50 / alone.P50:N2}; ratio above 1 is how much slower live runs were"),
        ];
    }

    /// CPU used by the Workers, the API and PostgreSQL since it was made, per run.
    private sealed class CpuPerRun
    {
        private readonly BenchPlatform _platform;
        private readonly ServerCpu? _server;
        private readonly TimeSpan _workers, _api, _database;

        public CpuPerRun(BenchPlatform platform)
        {
            _platform = platform;
            _server = ServerCpu.For(platform.ConnectionString);
            (_workers, _api, _database) = (platform.Workers.CpuTime(), platform.Api.CpuTime(), _server?.CpuTime() ?? TimeSpan.Zero);
        }

        public string Per(int runs)
        {
            double Ms(TimeSpan used) => used.TotalMilliseconds / runs;
            var (workers, api) = (Ms(_platform.Workers.CpuTime() - _workers), Ms(_platform.Api.CpuTime() - _api));
            var database = _server is null ? double.NaN : Ms(_server.CpuTime() - _database);
            return $"{workers + api + database:N1} ms (Workers {workers:N1}, API {api:N1}, PostgreSQL {database:N1})";
        }
    }

    /// Re-runs the recipe's failed runs in bulk, and waits for the job to finish: its own times say how long it took.
    private static async Task<(JsonElement Job, TimeSpan Took)> ReplayAsync(BenchPlatform platform, string recipe)
    {
        var accepted = await platform.Client.PostAsJsonAsync("/api/v1/replays", new
        {
            filter = new { recipe, status = "failed" }, recipeVersion = "original", reason = "the partner is fixed",
            concurrency = int.TryParse(Environment.GetEnvironmentVariable("BENCH_RERUN_CONCURRENCY"), out var c) ? c : (int?)null,
        });
        accepted.EnsureSuccessStatusCode();
        var replayId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayId").GetGuid();
        JsonElement job;
        var deadline = DateTime.UtcNow.AddHours(1);
        do
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The bulk re-run did not complete within an hour.");
            // Once a second, as a person watching it would.
            await Task.Delay(1000);
            job = await platform.Client.GetFromJsonAsync<JsonElement>($"/api/v1/replays/{replayId}");
        } while (job.GetProperty("finishedAt").ValueKind == JsonValueKind.Null);
        return (job, job.GetProperty("finishedAt").GetDateTimeOffset() - job.GetProperty("createdAt").GetDateTimeOffset());
    }

    private static async Task PutRecipeAsync(BenchPlatform platform, string key, string path)
    {
        var definition = new
        {
            name = key,
            trigger = new { type = "api" },
            steps = new object[] { new { id = "deliver", type = "http", connection = "partner", method = "POST", path, body = "{\"n\": {{ input.n }}}" } },
        };
        (await platform.Client.PutAsJsonAsync($"/api/v1/recipes/{key}", definition)).EnsureSuccessStatusCode();
    }

    /// Starts the runs through the trigger and waits until every one has the expected outcome.
    private static async Task<TimeSpan> TriggerAsync(BenchPlatform platform, string key, int runs, string outcome)
    {
        var watch = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
                (await platform.Client.PostAsJsonAsync($"/api/v1/recipes/{key}/runs", new { n = i })).EnsureSuccessStatusCode();
        }));
        var deadline = DateTime.UtcNow.AddMinutes(30);
        var sql = $"select count(*) from enate.mt_doc_runsummary where data ->> 'recipeKey' = '{key}' and data ->> 'status' = '{outcome}'";
        while (await platform.ScalarAsync(sql) < runs)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{key}: not all {runs} runs {outcome} within 30 minutes.");
            await Task.Delay(100);
        }
        return watch.Elapsed;
    }

    /// Live runs at a fixed pace (open loop: run i is sent at i / rate whatever happened to the ones before), each timed
    /// from its scheduled moment to the partner's receipt of its call.
    private sealed class LiveRuns(BenchPlatform platform, Partner partner)
    {
        private int _next;

        public async Task<(double P50, double P99, int Count)> PaceAsync(TimeSpan length, CancellationToken stop)
        {
            var due = new Dictionary<int, long>();
            var sends = new List<Task>();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < length.TotalSeconds * LiveRate && !stop.IsCancellationRequested; i++)
            {
                var at = start + (long)(i / LiveRate * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), at);
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    try { await Task.Delay(wait, stop); }
                    catch (OperationCanceledException) { break; }
                }
                var n = Interlocked.Increment(ref _next);
                due[n] = at;
                sends.Add(SendAsync(n));
            }
            await Task.WhenAll(sends);
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (due.Keys.Any(n => !partner.Live.ContainsKey(n)))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("Live runs did not reach the partner within 5 minutes.");
                await Task.Delay(50);
            }
            if (Environment.GetEnvironmentVariable("BENCH_LATENCY_DUMP") is { Length: > 0 } dump)
            {
                Directory.CreateDirectory(dump);
                await File.WriteAllLinesAsync(Path.Combine(dump, $"live-{DateTime.UtcNow:HHmmss}.csv"),
                    due.OrderBy(d => d.Key).Select(d => $"{Stopwatch.GetElapsedTime(start, d.Value).TotalMilliseconds:0.0},{Stopwatch.GetElapsedTime(d.Value, partner.Live[d.Key]).TotalMilliseconds:0.00}"));
            }
            var latencies = due.Select(d => Stopwatch.GetElapsedTime(d.Value, partner.Live[d.Key]).TotalMilliseconds).Order().ToArray();
            return (latencies[latencies.Length / 2], latencies[Math.Min(latencies.Length - 1, (int)(latencies.Length * 0.99))], latencies.Length);
        }

        private async Task SendAsync(int n)
        {
            using var response = await platform.Client.PostAsJsonAsync("/api/v1/recipes/live/runs", new { n });
            response.EnsureSuccessStatusCode();
        }
    }

    /// The partner: 400 on /deliver while failing (a client error the run cannot retry), else 200; /live notes when each
    /// live run's call arrived.
    private sealed class Partner : IAsyncDisposable
    {
        private WebApplication _app = null!;
        public volatile bool Failing;
        public readonly ConcurrentDictionary<int, long> Live = new();
        public string Url => _app.Urls.First();

        public static async Task<Partner> StartAsync()
        {
            var partner = new Partner();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{FreePorts.Next()}");
            builder.Logging.ClearProviders();
            partner._app = builder.Build();
            partner._app.MapPost("/deliver", () => partner.Failing
                ? Results.Problem(statusCode: 400, title: "Unknown account")
                : Results.Ok(new { ok = true }));
            partner._app.MapPost("/live", (LiveCall call) =>
            {
                partner.Live.TryAdd(call.N, Stopwatch.GetTimestamp());
                return Results.Ok(new { ok = true });
            });
            await partner._app.StartAsync();
            return partner;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record LiveCall(int N);
}
