using System.Security.Cryptography;
using Enate.Testing;

namespace Enate.Benchmarks;

/// The audit record's heavy operations on one durable PostgreSQL, through the real API and Workers processes, each
/// beside a baseline measured in the same run: the projection rebuild beside Marten's plain daemon rebuild; the NDJSON
/// export beside PostgreSQL's COPY of mt_events; verification of the chain against the witness and of the read models
/// against the events; a bulk replay of failed runs beside as many fresh runs.
public static class AuditBenchmark
{
    public static async Task<IEnumerable<Result>> RunAsync(bool smoke)
    {
        // A run written in bulk is 7 events (6 of the run, 1 inbound record): 200,004 to rebuild, 1,000,006 to export.
        var rebuildRuns = RebuildRuns(smoke);
        var exportRuns = ExportRuns(smoke);
        var reruns = smoke ? 20 : 10_000;

        await using var database = await TestDatabase.StartAsync("audit", durable: true, settings: BenchServer.Settings());
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var platform = await BenchPlatform.StartAsync(database.ConnectionString, key);
        await using var log = new SyntheticLog(database.ConnectionString);

        var results = new List<Result>();
        Console.WriteLine($"  audit: writing {rebuildRuns * SyntheticLog.EventsPerRun:N0} events");
        await log.AppendRunsAsync(rebuildRuns);
        Console.WriteLine("  audit: rebuilding");
        results.AddRange(await RebuildBenchmark.RunAsync(platform, log));

        Console.WriteLine($"  audit: writing up to {exportRuns * SyntheticLog.EventsPerRun:N0} events, then chaining them");
        await log.AppendRunsAsync(exportRuns - rebuildRuns);
        // A fresh API process: its peak memory is then the export's, not the rebuild's. Restarted before the Workers
        // start: the API (rich appends) rewrites mt_quick_append_events into a form the Workers' quick appends cannot
        // call, and the Workers put theirs back only when they start.
        await platform.RestartApiAsync();
        platform.StartWorkers();
        var chaining = await platform.WaitForChainAsync();
        Console.WriteLine("  audit: exporting");
        results.AddRange(await ExportBenchmark.RunAsync(platform, chaining));
        Console.WriteLine("  audit: verifying the chain against the witness, and the read models against the events");
        results.AddRange(await ProofBenchmark.RunAsync(platform, chaining));

        Console.WriteLine($"  audit: {reruns:N0} failing runs, {reruns:N0} fresh ones, then a bulk re-run of the failed");
        results.AddRange(await RerunBenchmark.RunAsync(platform, reruns, smoke));
        return results;
    }

    private static int RebuildRuns(bool smoke) => smoke ? 100 : 28_572;
    private static int ExportRuns(bool smoke) => smoke ? 300 : 142_858;

    /// The projection rebuild alone (`--only rebuild`), on a durable server of its own, for working on it.
    public static async Task<IEnumerable<Result>> RebuildOnlyAsync(bool smoke)
    {
        await using var database = await TestDatabase.StartAsync("rebuild", durable: true, settings: BenchServer.Settings());
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var platform = await BenchPlatform.StartAsync(database.ConnectionString, key);
        await using var log = new SyntheticLog(database.ConnectionString);
        await log.AppendRunsAsync(RebuildRuns(smoke));
        return await RebuildBenchmark.RunAsync(platform, log);
    }

    /// The proof alone (`--only proof`): verifying the chain and the read models over a log of the export's size, on a
    /// durable server of its own, for working on them.
    public static async Task<IEnumerable<Result>> ProofOnlyAsync(bool smoke)
    {
        await using var database = await TestDatabase.StartAsync("proof", durable: true, settings: BenchServer.Settings());
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var platform = await BenchPlatform.StartAsync(database.ConnectionString, key);
        await using var log = new SyntheticLog(database.ConnectionString);
        Console.WriteLine($"  proof: writing {ExportRuns(smoke) * SyntheticLog.EventsPerRun:N0} events, then chaining them");
        await log.AppendRunsAsync(ExportRuns(smoke));
        await platform.RestartApiAsync();
        platform.StartWorkers();
        var chaining = await platform.WaitForChainAsync();
        return await ProofBenchmark.RunAsync(platform, chaining);
    }

    /// The bulk re-run alone (`--only replay`), on a durable server of its own, for working on it.
    public static async Task<IEnumerable<Result>> ReplayOnlyAsync(bool smoke)
    {
        var reruns = smoke ? 20 : 10_000;
        await using var database = await TestDatabase.StartAsync("replay", durable: true, settings: BenchServer.Settings());
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var platform = await BenchPlatform.StartAsync(database.ConnectionString, key);
        platform.StartWorkers();
        Console.WriteLine($"  replay: {reruns:N0} failing runs, {reruns:N0} fresh ones, then a bulk re-run of the failed beside live runs");
        return await RerunBenchmark.RunAsync(platform, reruns, smoke);
    }
}
