using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;

namespace Enate.Benchmarks;

/// Where a phase's WAL went, table by table and index by index: pg_waldump over the phase's LSN range, each record's
/// bytes counted against the relation of its first block, with the full-page images (the copy of a whole 8-kB page
/// the first time it changes after a checkpoint) counted apart. BENCH_WALDUMP=1 turns it on in the latency mode.
public static partial class WalBreakdown
{
    public static bool Enabled => Environment.GetEnvironmentVariable("BENCH_WALDUMP") == "1";

    public static async Task<string> CurrentLsnAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select pg_current_wal_lsn()::text", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// The table of relations by WAL bytes for [from, to), `requests` (every request sent in that range, the unmeasured
    /// first seconds included) to give bytes per request; written to `file`.
    public static async Task WriteAsync(string connectionString, string from, string to, int requests, string file)
    {
        var (directory, names) = await ServerAsync(connectionString);
        // Its errors go to the console: a checkpoint that ends during the phase may already have recycled the phase's
        // first segments (BENCH_PG="wal_keep_size=…" keeps them, at the price of creating new ones meanwhile).
        var start = new ProcessStartInfo(WaldumpPath(), ["-p", Path.Combine(directory, "pg_wal"), "-s", from, "-e", to])
        {
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var tally = new Dictionary<string, (long Records, long Bytes, long Fpi, long FpiBytes)>();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            var record = Record().Match(line);
            if (!record.Success) continue;
            var bytes = long.Parse(record.Groups["tot"].Value);
            var block = Block().Match(line);
            var name = block.Success
                ? names.GetValueOrDefault(uint.Parse(block.Groups["node"].Value), $"relfilenode {block.Groups["node"].Value}")
                : $"({record.Groups["rmgr"].Value}, no block)";
            var fpi = line.Contains(" FPW", StringComparison.Ordinal);
            var recordBytes = long.Parse(record.Groups["rec"].Value);
            var row = tally.GetValueOrDefault(name);
            tally[name] = (row.Records + 1, row.Bytes + bytes, row.Fpi + (fpi ? 1 : 0), row.FpiBytes + (bytes - recordBytes));
        }
        await process.WaitForExitAsync();
        var total = tally.Values.Sum(v => v.Bytes);
        var lines = new List<string>
        {
            $"WAL {from} .. {to}: {total:N0} bytes, {requests} requests, {total / (double)Math.Max(1, requests):0} bytes per request",
            "| relation | records per request | bytes per request | of which full-page images | full-page images per 1,000 requests | share |",
            "|---|---|---|---|---|---|",
        };
        lines.AddRange(tally.OrderByDescending(t => t.Value.Bytes).Select(t =>
            $"| {t.Key} | {t.Value.Records / (double)requests:0.00} | {t.Value.Bytes / (double)requests:0} | {t.Value.FpiBytes / (double)requests:0} | {t.Value.Fpi * 1000.0 / requests:0.0} | {t.Value.Bytes * 100.0 / total:0.0}% |"));
        await File.WriteAllLinesAsync(file, lines);
        Console.WriteLine($"  WAL breakdown: {file}");
    }

    private static async Task<(string Directory, Dictionary<uint, string> Names)> ServerAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var show = new NpgsqlCommand("show data_directory", connection);
        var directory = (string)(await show.ExecuteScalarAsync())!;
        var names = new Dictionary<uint, string>();
        await using var query = new NpgsqlCommand(
            "select pg_relation_filenode(c.oid)::bigint, n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where pg_relation_filenode(c.oid) is not null",
            connection);
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync()) names[(uint)reader.GetInt64(0)] = reader.GetString(1);
        return (directory, names);
    }

    /// pg_waldump is not on Debian's PATH; it lives beside the server's binaries.
    private static string WaldumpPath() =>
        (Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Order().Select(d => Path.Combine(d, "bin", "pg_waldump")).LastOrDefault(File.Exists)
            : null) ?? "pg_waldump";

    [GeneratedRegex(@"rmgr: (?<rmgr>\w+)\s+len \(rec/tot\):\s+(?<rec>\d+)/\s*(?<tot>\d+)")]
    private static partial Regex Record();

    [GeneratedRegex(@"blkref #0: rel \d+/\d+/(?<node>\d+)")]
    private static partial Regex Block();
}
