using System.Diagnostics;
using Npgsql;

namespace Enate.Benchmarks;

/// GET /api/v1/audit/export of the whole chained log over HTTP from a fresh API process, beside PostgreSQL's own
/// COPY of mt_events to this process; and the API process's peak resident memory beside its memory before.
public static class ExportBenchmark
{
    public static async Task<IEnumerable<Result>> RunAsync(BenchPlatform platform, (long Events, TimeSpan Took) chaining)
    {
        // Warms the route (authentication, the query's plan, JIT of the writer) on an empty range.
        var empty = await ExportAsync(platform, "?from=2100-01-01T00:00:00Z");
        if (empty.Lines != 0) throw new InvalidOperationException($"an empty range exported {empty.Lines} lines");
        var before = ResidentMiB(platform.Api.Id);

        var cold = await ExportAsync(platform, "");
        var export = await ExportAsync(platform, "");
        var peak = platform.Api.PeakMemoryMiB();
        // Every chained event, and after some of them a witnessed checkpoint's line.
        if (export.Lines < chaining.Events) throw new InvalidOperationException($"exported {export.Lines} lines for {chaining.Events} events");

        await CopyAsync(platform, "copy enate.mt_events to stdout");
        var copy = await CopyAsync(platform, "copy enate.mt_events to stdout");
        var join = await CopyAsync(platform,
            "copy (select e.seq_id, e.tenant_id, e.stream_id, e.version, e.type, e.timestamp, e.data, c.previous, c.hash " +
            "from enate.audit_chain c join enate.mt_events e on e.seq_id = c.seq_id where c.tenant_id = 'demo' order by c.seq_id) to stdout");
        if (copy.Lines != chaining.Events) throw new InvalidOperationException($"COPY gave {copy.Lines} of {chaining.Events} rows");

        return
        [
            new Result("audit: NDJSON export (GET /api/v1/audit/export, API process)", $"{export.PerSecond:N0} events/s ({export.MegabytesPerSecond:N0} MB/s)",
                $"COPY enate.mt_events TO STDOUT: {copy.PerSecond:N0} events/s ({copy.MegabytesPerSecond:N0} MB/s)", export.PerSecond / copy.PerSecond,
                $"{chaining.Events:N0} events and {export.Lines - chaining.Events:N0} checkpoints, {export.Bytes / 1e6:N0} MB of NDJSON read over HTTP by this process (COPY: {copy.Bytes / 1e6:N0} MB); " +
                $"first export after start {cold.PerSecond:N0} events/s; COPY of the export's own join in order {join.PerSecond:N0} events/s; " +
                $"the Workers had chained the log at {chaining.Events / chaining.Took.TotalSeconds:N0} events/s"),
            new Result("audit: export peak memory (API process, VmHWM)", $"{peak:N0} MiB", $"resident before the exports: {before:N0} MiB", peak / before,
                $"fresh API process; two whole exports of {export.Bytes / 1e6:N0} MB each, streamed"),
        ];
    }

    private sealed record Transfer(long Lines, long Bytes, TimeSpan Took)
    {
        public double PerSecond => Lines / Took.TotalSeconds;
        public double MegabytesPerSecond => Bytes / 1e6 / Took.TotalSeconds;
    }

    private static async Task<Transfer> ExportAsync(BenchPlatform platform, string query)
    {
        var watch = Stopwatch.StartNew();
        using var response = await platform.Client.GetAsync($"/api/v1/audit/export{query}", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var (lines, bytes) = await CountAsync(body);
        return new Transfer(lines, bytes, watch.Elapsed);
    }

    private static async Task<Transfer> CopyAsync(BenchPlatform platform, string sql)
    {
        var watch = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        using var text = await connection.BeginTextExportAsync(sql);
        var buffer = new char[1 << 16];
        long lines = 0, bytes = 0;
        int read;
        while ((read = await text.ReadAsync(buffer, 0, buffer.Length)) > 0)
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(buffer, 0, read);
            lines += buffer.AsSpan(0, read).Count('\n');
        }
        return new Transfer(lines, bytes, watch.Elapsed);
    }

    private static async Task<(long Lines, long Bytes)> CountAsync(Stream stream)
    {
        var buffer = new byte[1 << 16];
        long lines = 0, bytes = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            bytes += read;
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        return (lines, bytes);
    }

    private static double ResidentMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:"));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
