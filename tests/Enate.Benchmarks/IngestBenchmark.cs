using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Enate.Benchmarks;

/// Signed partner webhooks into the real API and Workers processes, beside the machine's limit for "a durably
/// recorded request": a minimal endpoint doing one INSERT of the body. Then end to end: webhook → run →
/// transformed call received by a partner, its sustained rate and its latency at half that rate.
public static class IngestBenchmark
{
    private const int Connections = 32;

    public static async Task<IEnumerable<Result>> RunAsync(bool smoke)
    {
        if (Wrk.Path is null)
            return [new Result("ingest", "not measured", "-", 0, "wrk is not installed: apt-get install -y wrk")];
        var seconds = smoke ? 2 : 15;
        await using var database = await TestDatabase.StartAsync("ingest", durable: true, settings: BenchServer.Settings());
        await BenchServer.PrewarmAsync(database.ConnectionString, smoke);

        var server = ServerCpu.For(database.ConnectionString);
        await using var baselineServer = await Baseline.StartAsync(database.ConnectionString);
        var baselineWarmup = await SettleAsync("baseline", () => baselineServer.RoundAsync(smoke ? 1 : 5), baselineServer.CpuTime, smoke);

        // Ingest: every request a new, individually signed webhook.
        await using var target = await IngestTarget.StartAsync(database.ConnectionString, smoke);
        var (api, client, settings, key) = (target.Api, target.Client, target.Settings, target.Key);
        Task<LoadResult> Round(int roundSeconds) => target.RoundAsync(roundSeconds);
        // Warm-up (tiered JIT, Wolverine's generated handlers, connection pools) until the rate settles, then the
        // measured run.
        var warmup = await SettleAsync("ingest", () => Round(smoke ? 1 : 5), api.CpuTime, smoke);

        // Measured: baseline and ingest rounds alternate, so both see the same machine, and the ratio is the median
        // of the pairs' ratios (another process taking the CPU for a while spoils one pair, not the comparison).
        var pairs = new List<(Measured Baseline, Measured Ingest)>();
        for (var i = 0; i < (smoke ? 1 : 5); i++)
        {
            var b = await MeasureAsync(() => baselineServer.RoundAsync(smoke ? 1 : 5), baselineServer.CpuTime, server);
            var g = await MeasureAsync(() => Round(smoke ? 1 : 5), api.CpuTime, server);
            pairs.Add((b, g));
            Console.WriteLine($"  pair {i + 1}: baseline {b.Load.RequestsPerSecond,7:0} req/s, ingest {g.Load.RequestsPerSecond,7:0} req/s, ratio {g.Load.RequestsPerSecond / b.Load.RequestsPerSecond:0.00}; " +
                              $"CPU ms per request: baseline {b.CpuMs:0.00} + PostgreSQL {b.DatabaseCpuMs:0.00}, ingest API {g.CpuMs:0.00} + PostgreSQL {g.DatabaseCpuMs:0.00}");
        }
        var ratio = Median(pairs.Select(p => p.Ingest.Load.RequestsPerSecond / p.Baseline.Load.RequestsPerSecond), r => r);
        var baselineMedian = Median(pairs.Select(p => p.Baseline), m => m.Load.RequestsPerSecond);
        var ingestMedian = Median(pairs.Select(p => p.Ingest), m => m.Load.RequestsPerSecond);
        var baseline = baselineMedian.Load;
        var ingest = ingestMedian.Load;
        var ratioText = $"ratios of the {pairs.Count} pairs: {string.Join(", ", pairs.Select(p => (p.Ingest.Load.RequestsPerSecond / p.Baseline.Load.RequestsPerSecond).ToString("0.00")))}";

        // Latency at half the median rate, open loop, the baseline and then ingest (every request a fresh webhook).
        // The runner's own open-loop path warms up first (its first paced phase dispatched late by up to 100 ms at p99).
        await baselineServer.PacedAsync(baseline.RequestsPerSecond / 2, smoke ? 1 : 3);
        var baselinePaced = await baselineServer.PacedAsync(baseline.RequestsPerSecond / 2, seconds);
        var checkpointsBefore = await CheckpointsAsync(database.ConnectionString);
        var ingestPaced = await Paced.RunAsync(client.BaseAddress!, i => target.Webhook($"P{i}"), ingest.RequestsPerSecond / 2, seconds);
        var checkpoints = await CheckpointsAsync(database.ConnectionString) - checkpointsBefore;
        // The baseline at the ingest's pace: the same requests per second, so the two tails compare directly.
        var baselineAtIngestPace = await baselineServer.PacedAsync(ingest.RequestsPerSecond / 2, seconds);
        var apiPeak = api.PeakMemoryMiB();

        // End to end runs on a database of its own: the ingest rounds left a backlog of hundreds of thousands of
        // accepted runs, which would keep the Workers busy for hours. The Workers never run during ingest (on 2 cores
        // they would take CPU from the API, and the ingest figure would say as much about the engine).
        var e2e = await EndToEndAsync(database.ConnectionString, settings, key, smoke, seconds, baselineServer, smoke ? 1 : 3);
        var (capacity, burst, rate, quiet, latency, workersPeak) = (e2e.Capacity, e2e.Burst, e2e.Rate, e2e.Quiet, e2e.Latency, e2e.WorkersPeakMiB);

        return
        [
            new Result("baseline: one INSERT per request", $"{baseline.RequestsPerSecond:0} req/s", "-", 1,
                $"median of {pairs.Count} rounds of 5 s (p50 {baseline.P50Ms:0.0} ms, p99 {baseline.P99Ms:0.0} ms at saturation), CPU {baselineMedian.CpuMs:0.00} ms per request (PostgreSQL {Median(pairs.Select(p => p.Baseline.DatabaseCpuMs), x => x):0.00} ms); minimal ASP.NET Core endpoint in its own process, Npgsql, durable PostgreSQL ({BenchServer.Describe()}), wrk -t2 -c{Connections}, after {baselineWarmup.TotalSeconds:0} s of warm-up"),
            new Result("ingest: signed partner webhooks → 202", $"{ingest.RequestsPerSecond:0} req/s", $"{baseline.RequestsPerSecond:0} req/s", ratio,
                $"median of {pairs.Count} rounds alternating with the baseline's, {ratioText}; p50 {ingest.P50Ms:0.0} ms, p99 {ingest.P99Ms:0.0} ms at saturation, non-2xx {ingest.Non2xx}, API CPU {ingestMedian.CpuMs:0.00} ms per request (PostgreSQL {Median(pairs.Select(p => p.Ingest.DatabaseCpuMs), x => x):0.00} ms) after {warmup.TotalSeconds:0} s of warm-up; Standard Webhooks verified, inbound record + run + queue message in one transaction"),
            new Result($"baseline: latency at {baselinePaced.OfferedPerSecond:0} req/s (half its rate)", $"p50 {baselinePaced.P50Ms:0.0} ms, p99 {baselinePaced.P99Ms:0.0} ms", "-", 0,
                $"open loop, {baselinePaced.Sent} requests over {seconds} s, {baselinePaced.Failed} failed; latency from each request's scheduled send time (the sender dispatched late by up to {baselinePaced.SenderLateP99Ms:0.0} ms at p99); worst 250 ms window p50 {baselinePaced.WorstWindowP50Ms:0.0} ms"),
            new Result($"baseline: latency at {baselineAtIngestPace.OfferedPerSecond:0} req/s (the ingest's pace)", $"p50 {baselineAtIngestPace.P50Ms:0.0} ms, p99 {baselineAtIngestPace.P99Ms:0.0} ms", "-", 0,
                $"the same open loop at the rate of the ingest latency row below, so the two tails compare at one request rate; worst 250 ms window p50 {baselineAtIngestPace.WorstWindowP50Ms:0.0} ms"),
            new Result($"ingest: latency at {ingestPaced.OfferedPerSecond:0} req/s (half its rate)", $"p50 {ingestPaced.P50Ms:0.0} ms, p99 {ingestPaced.P99Ms:0.0} ms", "-", 0,
                $"open loop, {ingestPaced.Sent} signed webhooks over {seconds} s, {ingestPaced.Failed} failed; latency from each request's scheduled send time to the 202 (the sender itself dispatched late by up to {ingestPaced.SenderLateP99Ms:0.0} ms at p99); PostgreSQL checkpoints meanwhile: {checkpoints}; worst 250 ms window p50 {ingestPaced.WorstWindowP50Ms:0.0} ms"),
            new Result("memory under ingest (peak RSS)", $"API {apiPeak:0} MiB, Workers {workersPeak:0} MiB", "-", 0, "VmHWM: the API after the ingest rounds, the Workers after the end-to-end phases"),
            new Result("end to end: sustained rate", $"{capacity:0} runs/s", $"{baseline.RequestsPerSecond:0} req/s", capacity / baseline.RequestsPerSecond,
                $"{burst} webhooks sent at once with 16 senders, time until the partner received the last transformed call; CPU per run meanwhile: Workers {e2e.WorkersCpuMsPerRun:0.00} ms, API {e2e.ApiCpuMsPerRun:0.00} ms, PostgreSQL {e2e.DatabaseCpuMsPerRun:0.00} ms"),
            new Result($"end to end: latency at {rate:0}/s (half the sustained rate)", $"p50 {latency.P50:0.0} ms, p99 {latency.P99:0.0} ms", "-", 0,
                $"webhook sent → partner received, median of {e2e.Phases.Count} phases of {seconds} s ({latency.Count} webhooks in all), started {quiet.TotalSeconds:0} s after the burst once the processes were idle; lag first/last tenth {latency.EarlyMs:0.0}/{latency.LateMs:0.0} ms (growth = backlog)"),
            new Result($"end to end: p99 at {rate:0}/s against the baseline's at that rate", $"{latency.P99:0.0} ms",
                $"{e2e.BaselineAtPace.P99:0.0} ms", latency.P99 / e2e.BaselineAtPace.P99,
                $"medians of {e2e.Phases.Count} phases, each the end-to-end phase and then the baseline's paced at the same rate: {e2e.PhasesText}; the baseline's p50 {e2e.BaselineAtPace.P50:0.0} ms; ratio above 1 is how much longer the tail"),
        ];
    }

    /// `--only latency`: the ingest latency phase alone, for working on the tail — warm-up until settled, one 5-s round
    /// at full rate, then BENCH_PHASES open-loop phases at half that rate, each with its checkpoints, WAL per request and
    /// its worst quarter second, each after the baseline paced at the same rate. No end to end.
    /// BENCH_PHASES and BENCH_PHASE_SECONDS (3 and 15 by default): a few long phases measure the tail over a whole
    /// checkpoint cycle (about 3.5 minutes at half the ingest's rate) instead of between checkpoints or across one.
    public static async Task<IEnumerable<Result>> LatencyAsync(bool smoke)
    {
        if (Wrk.Path is null)
            return [new Result("ingest latency", "not measured", "-", 0, "wrk is not installed: apt-get install -y wrk")];
        var seconds = smoke ? 2 : int.TryParse(Environment.GetEnvironmentVariable("BENCH_PHASE_SECONDS"), out var s) && s > 0 ? s : 15;
        var phases = int.TryParse(Environment.GetEnvironmentVariable("BENCH_PHASES"), out var p) && p > 0 ? p : 3;
        // BENCH_BODY_BYTES=n: every webhook, and the baseline's every body, carries a note of n random characters, for a
        // payload nearer a real one's size (random, because PostgreSQL compresses a large repetitive value to almost
        // nothing). The full-rate rounds carry it too, so "half the rate" is half the rate at that body size.
        var padding = int.TryParse(Environment.GetEnvironmentVariable("BENCH_BODY_BYTES"), out var extra) && extra > 0
            ? $",\"note\":\"{Convert.ToHexString(RandomNumberGenerator.GetBytes((extra + 1) / 2))[..extra]}\""
            : "";
        await using var database = await TestDatabase.StartAsync("ingest", durable: true, settings: BenchServer.Settings());
        await BenchServer.PrewarmAsync(database.ConnectionString, smoke);
        await using var target = await IngestTarget.StartAsync(database.ConnectionString, smoke, padding);
        var (api, client) = (target.Api, target.Client);
        Task<LoadResult> Round(int roundSeconds) => target.RoundAsync(roundSeconds);
        await SettleAsync("ingest", () => Round(smoke ? 1 : 5), api.CpuTime, smoke);
        var full = await Round(smoke ? 1 : 5);
        Console.WriteLine($"  PostgreSQL: {BenchServer.Describe()}; full rate {full.RequestsPerSecond:0} req/s");
        // The baseline endpoint, paced at the same rate just before each ingest phase: the two tails side by side, on
        // the same server a few seconds apart.
        await using var baselineServer = await Baseline.StartAsync(database.ConnectionString, padding);
        await SettleAsync("baseline", () => baselineServer.RoundAsync(smoke ? 1 : 5), baselineServer.CpuTime, smoke);
        // The runner's own open-loop path warms up first (its first paced phase dispatched late by up to 100 ms at p99).
        await baselineServer.PacedAsync(full.RequestsPerSecond / 2, smoke ? 1 : 3);
        var results = new List<Result>();
        for (var phase = 1; phase <= phases; phase++)
        {
            var b = await baselineServer.PacedAsync(full.RequestsPerSecond / 2, seconds);
            Console.WriteLine($"  phase {phase}, baseline: {b.OfferedPerSecond:0} req/s, p50 {b.P50Ms:0.0} ms, p99 {b.P99Ms:0.0} ms, worst 250 ms window p50 {b.WorstWindowP50Ms:0.0} ms, sender late p99 {b.SenderLateP99Ms:0.0} ms");
            results.Add(new Result($"baseline: latency at {b.OfferedPerSecond:0} req/s (the ingest's pace), phase {phase}", $"p50 {b.P50Ms:0.0} ms, p99 {b.P99Ms:0.0} ms", "-", 0,
                $"open loop, {b.Sent} requests over {seconds} s, {b.Failed} failed; worst 250 ms window p50 {b.WorstWindowP50Ms:0.0} ms; sender late p99 {b.SenderLateP99Ms:0.0} ms{(padding.Length > 0 ? $"; bodies padded by {extra} characters" : "")}"));
            var checkpointsBefore = await CheckpointsAsync(database.ConnectionString);
            var walBefore = await WalBytesAsync(database.ConnectionString);
            var lsnBefore = WalBreakdown.Enabled ? await WalBreakdown.CurrentLsnAsync(database.ConnectionString) : null;
            var paced = await Paced.RunAsync(client.BaseAddress!, i => target.Webhook($"P{phase}-{i}", padding), full.RequestsPerSecond / 2, seconds);
            if (lsnBefore is not null)
                await WalBreakdown.WriteAsync(database.ConnectionString, lsnBefore, await WalBreakdown.CurrentLsnAsync(database.ConnectionString),
                    paced.Sent + (int)(paced.OfferedPerSecond * 2), Path.Combine(Path.GetTempPath(), $"enate-wal-phase{phase}-{DateTime.UtcNow:HHmmss}.md"));
            var wal = (await WalBytesAsync(database.ConnectionString) - walBefore) / Math.Max(1, paced.Sent + (int)(paced.OfferedPerSecond * 2));
            var checkpoints = await CheckpointsAsync(database.ConnectionString) - checkpointsBefore;
            Console.WriteLine($"  phase {phase}, ingest:   {paced.OfferedPerSecond:0} req/s, p50 {paced.P50Ms:0.0} ms, p99 {paced.P99Ms:0.0} ms, worst 250 ms window p50 {paced.WorstWindowP50Ms:0.0} ms, checkpoints {checkpoints}, WAL {wal:0} bytes per request, sender late p99 {paced.SenderLateP99Ms:0.0} ms");
            results.Add(new Result($"ingest: latency at {paced.OfferedPerSecond:0} req/s (half its rate), phase {phase}", $"p50 {paced.P50Ms:0.0} ms, p99 {paced.P99Ms:0.0} ms", "-", 0,
                $"open loop, {paced.Sent} signed webhooks over {seconds} s, {paced.Failed} failed; worst 250 ms window p50 {paced.WorstWindowP50Ms:0.0} ms; checkpoints meanwhile {checkpoints}; WAL {wal:0} bytes per request; sender late p99 {paced.SenderLateP99Ms:0.0} ms; PostgreSQL {BenchServer.Describe()}{(padding.Length > 0 ? $"; bodies padded by {extra} characters" : "")}"));
        }
        return results;
    }

    /// What end to end measured: the sustained rate of a burst, the latency paced at half that rate, and what a run
    /// cost the Workers and PostgreSQL in CPU during the burst.
    /// `Latency`: the medians over `Phases`, each an end-to-end phase paced at `Rate` and the baseline's paced at that
    /// rate right after it (`BaselineAtPace`, the medians of its phases), so the two tails compare at one request rate.
    private sealed record EndToEnd(double Capacity, int Burst, double Rate, TimeSpan Quiet, Latency Latency, double WorkersPeakMiB,
        double WorkersCpuMsPerRun, double ApiCpuMsPerRun, double DatabaseCpuMsPerRun,
        IReadOnlyList<(Latency EndToEnd, PacedResult Baseline)> Phases, (double P50, double P99) BaselineAtPace)
    {
        public string PhasesText => string.Join("; ", Phases.Select(p => $"p99 {p.EndToEnd.P99:0.0} against {p.Baseline.P99Ms:0.0} ms"));
    }

    /// Webhook → run (transform + HTTP step) → loopback partner, on a database of its own beside `serverConnection`'s:
    /// a burst for the sustained rate, then paced at half that rate once the processes are idle.
    private static async Task<EndToEnd> EndToEndAsync(string serverConnection, IDictionary<string, string> settings, string key,
        bool smoke, int seconds, Baseline baseline, int phases)
    {
        var e2eDatabase = new NpgsqlConnectionStringBuilder(serverConnection) { Database = "e2e" }.ConnectionString;
        await using (var admin = new NpgsqlConnection(serverConnection))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand("create database e2e", admin);
            await create.ExecuteNonQueryAsync();
        }
        var e2ePort = FreePorts.Next();
        await using var e2eApi = WorkerProcess.Start(e2eDatabase, "Enate.Api", e2ePort, settings);
        using var e2eClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{e2ePort}") };
        e2eClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await WaitHealthyAsync(e2eClient);
        await using var workers = WorkerProcess.Start(e2eDatabase, "Enate.Workers", FreePorts.Next(), settings);

        // End to end: webhook → transform → call to a partner.
        await using var partner = await Sink.StartAsync();
        var (e2ePath, e2eSecret) = await EndToEndRecipeAsync(e2eClient, partner);
        var burst = smoke ? 40 : 1_000;
        // Warm until the processes' code is compiled for good: tiered compilation keeps re-jitting hot methods for tens
        // of seconds under load, which a burst right after start would measure as the platform's cost.
        for (var warm = 0; warm < (smoke ? 1 : 3); warm++) await CapacityAsync(e2eClient, e2ePath, e2eSecret, partner, burst, $"warm{warm}");
        var server = ServerCpu.For(serverConnection);
        await Statements.ResetAsync(e2eDatabase);
        var (workersBefore, apiBefore, databaseBefore) = (workers.CpuTime(), e2eApi.CpuTime(), server?.CpuTime());
        var capacity = await CapacityAsync(e2eClient, e2ePath, e2eSecret, partner, burst, "cap");
        await Statements.PrintAsync(e2eDatabase, $"the burst of {burst} runs");
        double PerRun(TimeSpan used) => used.TotalMilliseconds / burst;
        var (workersCpu, apiCpu) = (PerRun(workers.CpuTime() - workersBefore), PerRun(e2eApi.CpuTime() - apiBefore));
        var databaseCpu = server is null || databaseBefore is null ? double.NaN : PerRun(server.CpuTime() - databaseBefore.Value);
        // The burst leaves work behind after its last call reached the partner (read models, the audit chain, the
        // queue's clean-up): the paced phase measures a platform at rest, not one still digesting the burst.
        var quiet = await WaitQuietAsync(smoke ? 5 : 120, workers, e2eApi);
        var rate = Math.Max(1, capacity / 2);
        // The baseline's open-loop path warms at this rate first, as the ingest's comparison does.
        await baseline.PacedAsync(rate, smoke ? 1 : 3);
        var measured = new List<(Latency EndToEnd, PacedResult Baseline)>();
        for (var phase = 0; phase < phases; phase++)
        {
            var e = await PacedAsync(e2eClient, e2ePath, e2eSecret, partner, rate, seconds, $"paced{phase}");
            measured.Add((e, await baseline.PacedAsync(rate, seconds)));
        }
        // The lag of the first and last tenth both from the first phase: a backlog grows within a phase, and the
        // baseline's phases between two of ours let one drain.
        var latency = new Latency(Median(measured.Select(m => m.EndToEnd.P50)), Median(measured.Select(m => m.EndToEnd.P99)),
            measured.Sum(m => m.EndToEnd.Count), measured[0].EndToEnd.EarlyMs, measured[0].EndToEnd.LateMs);
        return new EndToEnd(capacity, burst, rate, quiet, latency, workers.PeakMemoryMiB(), workersCpu, apiCpu, databaseCpu, measured,
            (Median(measured.Select(m => m.Baseline.P50Ms)), Median(measured.Select(m => m.Baseline.P99Ms))));
    }

    /// `--only e2e`: end to end alone, for working on the engine — no ingest rounds, three bursts and their paced
    /// phases, each on a fresh database, with the CPU a run cost each process during its burst.
    public static async Task<IEnumerable<Result>> EndToEndOnlyAsync(bool smoke)
    {
        var seconds = smoke ? 2 : 15;
        var results = new List<Result>();
        for (var round = 1; round <= (smoke ? 1 : 3); round++)
        {
            await using var database = await TestDatabase.StartAsync("e2eonly", durable: true, settings: BenchServer.Settings());
            await BenchServer.PrewarmAsync(database.ConnectionString, smoke);
            var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            await using var baseline = await Baseline.StartAsync(database.ConnectionString);
            var e2e = await EndToEndAsync(database.ConnectionString, IngestTarget.ApiSettings(key), key, smoke, seconds, baseline, 1);
            Console.WriteLine($"  round {round}: {e2e.Capacity:0} runs/s; CPU ms per run: Workers {e2e.WorkersCpuMsPerRun:0.00}, API {e2e.ApiCpuMsPerRun:0.00}, PostgreSQL {e2e.DatabaseCpuMsPerRun:0.00}; " +
                              $"at {e2e.Rate:0}/s p50 {e2e.Latency.P50:0.0} ms, p99 {e2e.Latency.P99:0.0} ms; the baseline at that rate p50 {e2e.BaselineAtPace.P50:0.0} ms, p99 {e2e.BaselineAtPace.P99:0.0} ms");
            results.Add(new Result($"end to end: sustained rate, round {round}", $"{e2e.Capacity:0} runs/s", "-", 0,
                $"{e2e.Burst} webhooks at once; CPU per run during the burst: Workers {e2e.WorkersCpuMsPerRun:0.00} ms, API {e2e.ApiCpuMsPerRun:0.00} ms, PostgreSQL {e2e.DatabaseCpuMsPerRun:0.00} ms"));
            results.Add(new Result($"end to end: latency at {e2e.Rate:0}/s, round {round}", $"p50 {e2e.Latency.P50:0.0} ms, p99 {e2e.Latency.P99:0.0} ms", "-", 0,
                $"{e2e.Latency.Count} webhooks over {seconds} s; lag first/last tenth {e2e.Latency.EarlyMs:0.0}/{e2e.Latency.LateMs:0.0} ms; peak RSS Workers {e2e.WorkersPeakMiB:0} MiB; " +
                $"the baseline paced at that rate right after: p50 {e2e.BaselineAtPace.P50:0.0} ms, p99 {e2e.BaselineAtPace.P99:0.0} ms"));
        }
        return results;
    }

    private static async Task<double> WalBytesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select (pg_current_wal_lsn() - '0/0')::float8", connection);
        return (double)(await command.ExecuteScalarAsync())!;
    }

    /// The API process under test with a webhook recipe on it, and the signed webhooks sent to it: wrk rounds from a
    /// file of prepared deliveries (re-signed every round), the open-loop sender one fresh delivery at a time.
    private sealed class IngestTarget : IAsyncDisposable
    {
        private string _data = "";
        private string _secret = "";
        private string _path = "";
        private int _port;
        public WorkerProcess Api { get; private set; } = null!;
        public HttpClient Client { get; private set; } = null!;
        public string Key { get; } = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        public Dictionary<string, string> Settings { get; private set; } = null!;

        public static async Task<IngestTarget> StartAsync(string connectionString, bool smoke, string padding = "")
        {
            var target = new IngestTarget { _port = FreePorts.Next() };
            target.Settings = ApiSettings(target.Key);
            target.Api = WorkerProcess.Start(connectionString, "Enate.Api", target._port, target.Settings);
            target.Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{target._port}") };
            target.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.Key);
            await WaitHealthyAsync(target.Client);
            (target._path, target._secret) = await WebhookRecipeAsync(target.Client, "ingest", null);
            target._data = Path.Combine(Path.GetTempPath(), $"enate-ingest-{Guid.NewGuid():N}.tsv");
            // Enough fresh deliveries for a 5-s round at the fastest rate seen here; fewer of a padded size (2 KB each).
            var count = smoke ? 4_000 : padding.Length > 0 ? 50_000 : 150_000;
            await File.WriteAllLinesAsync(target._data, Enumerable.Range(0, count).Select(i =>
            {
                var body = Body($"E{i}", padding);
                var (id, ts, signature) = Sign(target._secret, body);
                return $"{id}\t{ts}\t{signature}\t{body}";
            }));
            return target;
        }

        /// The platform's processes as the benchmark runs them: its admin key, no rate limits, the loopback partner allowed.
        public static Dictionary<string, string> ApiSettings(string key) => new()
        {
            ["Enate__Bootstrap__ApiKey"] = key,
            ["Enate__RateLimits__PerWebhookPerSecond"] = "1000000",
            ["Enate__RateLimits__PerKeyPerSecond"] = "1000000",
            ["Enate__RateLimits__PerTenantPerSecond"] = "1000000",
            ["Enate__RateLimits__AnonymousPerAddressPerSecond"] = "1000000",
            ["Enate__Outbound__Allow__0"] = "127.0.0.0/8",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        /// A wrk round; fresh webhook ids every round: a repeat would be absorbed as a duplicate, which is cheaper.
        public async Task<LoadResult> RoundAsync(int seconds)
        {
            await File.WriteAllLinesAsync(_data, (await File.ReadAllLinesAsync(_data)).Select(line => Resign(line, _secret)));
            return await Wrk.RunAsync($"http://127.0.0.1:{_port}{_path}", Wrk.SignedWebhookScript(), seconds, Connections, _data, _path, "2");
        }

        /// One fresh, signed delivery; `padding` is extra JSON members for a larger body.
        public HttpRequestMessage Webhook(string id, string padding = "")
        {
            var body = Body(id, padding);
            var (deliveryId, ts, signature) = Sign(_secret, body);
            var message = new HttpRequestMessage(HttpMethod.Post, _path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            message.Headers.Add("webhook-id", deliveryId);
            message.Headers.Add("webhook-timestamp", ts);
            message.Headers.Add("webhook-signature", signature);
            return message;
        }

        private static string Body(string id, string padding) =>
            $"{{\"type\":\"employee.onboarded\",\"data\":{{\"id\":\"{id}\",\"email\":\"{id.ToLowerInvariant()}@example.com\"{padding}}}}}";

        public async ValueTask DisposeAsync()
        {
            File.Delete(_data);
            Client.Dispose();
            await Api.DisposeAsync();
        }
    }

    /// The machine's limit for "a durably recorded request": a minimal endpoint, one INSERT of the body, in a process of
    /// its own (this program, started with `--baseline-endpoint`), like the API: the open-loop sender and the endpoint
    /// no longer share a process, so its latency row measures the endpoint, and its CPU is its own.
    private sealed class Baseline : IAsyncDisposable
    {
        private const string Small = "{\"type\":\"employee.onboarded\",\"data\":{\"id\":\"E1\",\"email\":\"e1@example.com\"}}";
        private string _body = Small;
        private string _script = "";
        private WorkerProcess _process = null!;
        public Uri Url { get; private init; } = null!;

        /// `padding`: the same extra members as the webhooks' (`BENCH_BODY_BYTES`), so a padded run compares the two
        /// at one body size.
        public static async Task<Baseline> StartAsync(string connectionString, string padding = "")
        {
            var port = FreePorts.Next();
            var body = padding.Length == 0 ? Small : Small[..^2] + padding + "}}";
            var baseline = new Baseline
            {
                _body = body,
                _script = Wrk.PostScript(body),
                _process = WorkerProcess.StartDll(typeof(IngestBenchmark).Assembly.Location, connectionString, port, null, BaselineEndpoint.Argument),
                Url = new Uri($"http://127.0.0.1:{port}/"),
            };
            using var client = new HttpClient { BaseAddress = baseline.Url };
            await WaitHealthyAsync(client);
            return baseline;
        }

        public Task<LoadResult> RoundAsync(int seconds) => Wrk.RunAsync(Url + "ingest", _script, seconds, Connections);

        public Task<PacedResult> PacedAsync(double rate, int seconds) => Paced.RunAsync(Url, _ =>
            new HttpRequestMessage(HttpMethod.Post, "/ingest") { Content = new StringContent(_body, Encoding.UTF8, "application/json") }, rate, seconds);

        public TimeSpan CpuTime() => _process.CpuTime();

        public async ValueTask DisposeAsync() => await _process.DisposeAsync();
    }

    /// A round's load, and the CPU per request of the process that answered and of PostgreSQL (NaN when the
    /// server is not on this machine).
    private sealed record Measured(LoadResult Load, double CpuMs, double DatabaseCpuMs);

    private static async Task<Measured> MeasureAsync(Func<Task<LoadResult>> round, Func<TimeSpan> cpu, ServerCpu? server)
    {
        var before = cpu();
        var databaseBefore = server?.CpuTime();
        var load = await round();
        var requests = Math.Max(1, load.Requests);
        return new Measured(load, (cpu() - before).TotalMilliseconds / requests,
            server is null ? double.NaN : (server.CpuTime() - databaseBefore!.Value).TotalMilliseconds / requests);
    }

    private static T Median<T>(IEnumerable<T> values, Func<T, double> by)
    {
        var sorted = values.OrderBy(by).ToList();
        return sorted[sorted.Count / 2];
    }

    /// Repeats a load round until two rounds in a row change the rate by less than 5 % (at least three rounds, at
    /// most 24): a .NET process under load keeps getting faster for tens of seconds while the tiered JIT recompiles
    /// its hot methods, and a measurement taken before that says more about the JIT than about the design.
    private static async Task<TimeSpan> SettleAsync(string name, Func<Task<LoadResult>> round, Func<TimeSpan> cpu, bool smoke)
    {
        var started = Stopwatch.StartNew();
        var previous = 0.0;
        var calm = 0;
        for (var i = 1; i <= (smoke ? 1 : 24); i++)
        {
            var before = cpu();
            var result = await round();
            var perRequest = (cpu() - before).TotalMilliseconds / Math.Max(1, result.Requests);
            Console.WriteLine($"  warm-up {name} {i,2}: {result.RequestsPerSecond,7:0} req/s, p99 {result.P99Ms,6:0.0} ms, CPU {perRequest:0.00} ms per request");
            calm = previous > 0 && Math.Abs(result.RequestsPerSecond - previous) / previous < 0.05 ? calm + 1 : 0;
            previous = result.RequestsPerSecond;
            if (calm >= 2 && i >= 3) break;
        }
        return started.Elapsed;
    }

    /// Polls the API's health endpoint until it answers 2xx (a freshly started process is migrating its schema).
    public static async Task WaitHealthyAsync(HttpClient client, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(500);
        }
        throw new TimeoutException("The API did not become healthy.");
    }

    private static async Task<(string Path, string Secret)> WebhookRecipeAsync(HttpClient client, string key, object[]? steps)
    {
        var definition = new
        {
            name = key,
            trigger = new { type = "webhook" },
            steps = steps ?? [new { id = "take", type = "transform", select = "input.data" }],
        };
        (await client.PutAsJsonAsync($"/api/v1/recipes/{key}", definition)).EnsureSuccessStatusCode();
        var hook = await client.GetFromJsonAsync<JsonElement>($"/api/v1/recipes/{key}/webhook");
        return (new Uri(hook.GetProperty("url").GetString()!).AbsolutePath, hook.GetProperty("secret").GetString()!);
    }

    /// The same body under a fresh webhook id: the warm-up used the first ones.
    private static string Resign(string line, string secret)
    {
        var body = line.Split('\t', 4)[3];
        var (id, ts, signature) = Sign(secret, body);
        return $"{id}\t{ts}\t{signature}\t{body}";
    }

    private static (string Id, string Timestamp, string Signature) Sign(string secret, string body)
    {
        var id = $"msg_{Guid.NewGuid():N}";
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
        var mac = HMACSHA256.HashData(Convert.FromBase64String(secret["whsec_".Length..]), Encoding.UTF8.GetBytes($"{id}.{ts}.{body}"));
        return (id, ts, "v1," + Convert.ToBase64String(mac));
    }

    private static async Task SendAsync(HttpClient client, string path, string secret, string id, ConcurrentDictionary<string, long> sent,
        ConcurrentDictionary<string, long>? accepted = null)
    {
        var body = $"{{\"id\":\"{id}\",\"amount\":{id.Length * 7}}}";
        var (messageId, ts, signature) = Sign(secret, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", ts);
        request.Headers.Add("webhook-signature", signature);
        sent[id] = Stopwatch.GetTimestamp();
        (await client.SendAsync(request)).EnsureSuccessStatusCode();
        if (accepted is not null) accepted[id] = Stopwatch.GetTimestamp();
    }

    /// `--only replicas`: the end-to-end burst with one Workers process, then with a second beside it, then with one
    /// again, on one database and one API, in the same run: the median of three bursts each, after warming. The
    /// baseline is the mean of the two single-replica phases, so the order of the phases favours neither side.
    public static async Task<IEnumerable<Result>> ReplicasAsync(bool smoke)
    {
        await using var database = await TestDatabase.StartAsync("replicas", durable: true, settings: BenchServer.Settings());
        await BenchServer.PrewarmAsync(database.ConnectionString, smoke);
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var settings = IngestTarget.ApiSettings(key);
        var port = FreePorts.Next();
        await using var api = WorkerProcess.Start(database.ConnectionString, "Enate.Api", port, settings);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        await WaitHealthyAsync(client);
        await using var partner = await Sink.StartAsync();
        var (path, secret) = await EndToEndRecipeAsync(client, partner);
        var burst = smoke ? 40 : 1_000;
        var workers = new List<WorkerProcess>();
        try
        {
            var phase = 0;
            async Task<double> MedianAsync(int replicas)
            {
                phase++;
                for (var warm = 0; warm < (smoke ? 1 : 3); warm++) await CapacityAsync(client, path, secret, partner, burst, $"p{phase}-warm{warm}");
                await WaitQuietAsync(smoke ? 5 : 60, [.. workers, api]);
                var rounds = new List<double>();
                for (var round = 0; round < (smoke ? 1 : 3); round++)
                {
                    rounds.Add(await CapacityAsync(client, path, secret, partner, burst, $"p{phase}-r{round}"));
                    await WaitQuietAsync(smoke ? 5 : 60, [.. workers, api]);
                }
                Console.WriteLine($"  {replicas} Workers: {string.Join(", ", rounds.Select(r => r.ToString("0")))} runs/s");
                return rounds.Order().ElementAt(rounds.Count / 2);
            }
            workers.Add(WorkerProcess.Start(database.ConnectionString, "Enate.Workers", FreePorts.Next(), settings));
            var one = await MedianAsync(1);
            workers.Add(WorkerProcess.Start(database.ConnectionString, "Enate.Workers", FreePorts.Next(), settings));
            var two = await MedianAsync(2);
            // One again, the second replica stopped: what the order (more warm-up, a fuller database) gives either side.
            await workers[1].DisposeAsync();
            workers.RemoveAt(1);
            var again = await MedianAsync(1);
            var alone = (one + again) / 2;
            return
            [
                new Result("end to end with 2 Workers replicas", $"{two:0} runs/s", $"{alone:0} runs/s with 1 (before {one:0}, after {again:0})", two / alone,
                    $"{burst} webhooks at once, median of three bursts each; {Environment.ProcessorCount} cores shared by PostgreSQL, the API and the Workers"),
            ];
        }
        finally
        {
            foreach (var process in workers) await process.DisposeAsync();
        }
    }

    /// The end-to-end recipe: a webhook's body shaped by a transform and posted to the partner.
    private static async Task<(string Path, string Secret)> EndToEndRecipeAsync(HttpClient client, Sink partner)
    {
        (await client.PutAsJsonAsync("/api/v1/connections/sink", new { kind = "http", baseUrl = partner.Url, auth = new { type = "none" }, timeoutSeconds = 10 }))
            .EnsureSuccessStatusCode();
        return await WebhookRecipeAsync(client, "e2e", new object[]
        {
            new { id = "shape", type = "transform", template = "{\"id\": \"{{ input.id }}\", \"amount\": {{ input.amount }}, \"currency\": \"GBP\"}" },
            new { id = "deliver", type = "http", connection = "sink", method = "POST", path = "/received", body = "{{ steps.shape | json }}" },
        });
    }

    private static async Task<double> CapacityAsync(HttpClient client, string path, string secret, Sink partner, int count, string prefix)
    {
        var sent = new ConcurrentDictionary<string, long>();
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await SendAsync(client, path, secret, $"{prefix}-{i}", sent);
        }));
        await partner.WaitForAsync(sent.Keys, TimeSpan.FromMinutes(5));
        var last = sent.Keys.Max(k => partner.Received[k]);
        return count / Stopwatch.GetElapsedTime(started, last).TotalSeconds;
    }

    private sealed record Latency(double P50, double P99, int Count, double EarlyMs, double LateMs);

    private static async Task<Latency> PacedAsync(HttpClient client, string path, string secret, Sink partner, double rate, int seconds,
        string prefix)
    {
        var sent = new ConcurrentDictionary<string, long>();
        var accepted = new ConcurrentDictionary<string, long>();
        // The first two seconds are sent and not counted, as in the baseline's paced phases (Paced.RunAsync): both sides'
        // tails are then taken the same way, after the open loop has settled.
        var skipped = (int)(rate * 2);
        var total = skipped + (int)(rate * seconds);
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            var wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            sends.Add(SendAsync(client, path, secret, $"{prefix}-{i}", sent, accepted));
        }
        await Task.WhenAll(sends);
        await partner.WaitForAsync(sent.Keys, TimeSpan.FromMinutes(5));
        // BENCH_LATENCY_DUMP=folder: each webhook's scheduled moment, how late it left, its 202 and its arrival at the partner.
        if (Environment.GetEnvironmentVariable("BENCH_LATENCY_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
            await File.WriteAllLinesAsync(Path.Combine(dump, $"e2e-{prefix}-{rate:0}-{DateTime.UtcNow:HHmmss}.csv"),
                Enumerable.Range(0, total).Select(i => $"{prefix}-{i}").Select((id, i) =>
                    $"{i / rate * 1000:0.0},{Ms(start, sent[id]) - i / rate * 1000:0.00},{Ms(sent[id], accepted[id]):0.00},{Ms(sent[id], partner.Received[id]):0.00}")
                    .Prepend("due_ms,late_ms,accepted_ms,delivered_ms"));
        }
        var ordered = Enumerable.Range(skipped, total - skipped).Select(i => $"{prefix}-{i}")
            .Select(id => Stopwatch.GetElapsedTime(sent[id], partner.Received[id]).TotalMilliseconds).ToList();
        var sorted = ordered.Order().ToList();
        var tenth = Math.Max(1, ordered.Count / 10);
        return new Latency(sorted[(int)(sorted.Count * 0.5)], sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * 0.99))], ordered.Count,
            Median(ordered.Take(tenth)), Median(ordered.Skip(ordered.Count - tenth)));
    }

    /// Checkpoints PostgreSQL has begun so far: each one flushes dirty pages and makes the next writes of a page log
    /// it whole, a likely cause of a latency spike.
    private static async Task<long> CheckpointsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select checkpoints_timed + checkpoints_req from pg_stat_bgwriter", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// Waits until the processes together use less than a tenth of a core over a second (at most `limit` seconds);
    /// returns how long that took.
    private static async Task<TimeSpan> WaitQuietAsync(int limit, params WorkerProcess[] processes)
    {
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(limit))
        {
            var before = processes.Sum(p => p.CpuTime().TotalSeconds);
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (processes.Sum(p => p.CpuTime().TotalSeconds) - before < 0.1) break;
        }
        return started.Elapsed;
    }

    private static double Median(IEnumerable<double> values)
    {
        var list = values.Order().ToList();
        return list[list.Count / 2];
    }

    /// The partner: records when each transformed call arrived, by the id in its body.
    private sealed class Sink : IAsyncDisposable
    {
        private WebApplication _app = null!;
        public ConcurrentDictionary<string, long> Received { get; } = new();
        public string Url => _app.Urls.First();

        public static async Task<Sink> StartAsync()
        {
            var sink = new Sink();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{FreePorts.Next()}");
            builder.Logging.ClearProviders();
            sink._app = builder.Build();
            sink._app.MapPost("/received", async (HttpRequest request) =>
            {
                var now = Stopwatch.GetTimestamp();
                var body = await JsonDocument.ParseAsync(request.Body);
                sink.Received.TryAdd(body.RootElement.GetProperty("id").GetString()!, now);
                return Results.Ok();
            });
            await sink._app.StartAsync();
            return sink;
        }

        public async Task WaitForAsync(ICollection<string> ids, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (ids.Any(id => !Received.ContainsKey(id)))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{ids.Count(id => !Received.ContainsKey(id))} calls never reached the partner.");
                await Task.Delay(20);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
