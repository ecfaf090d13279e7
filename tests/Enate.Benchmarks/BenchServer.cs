namespace Enate.Benchmarks;

/// Settings of the benchmarks' durable PostgreSQL, for the baseline and the platform alike: the platform's own
/// (LocalPostgres.DurableSettings, as the app host runs it). BENCH_PG adds or overrides some for an experiment:
/// `BENCH_PG="shared_buffers=2GB;wal_compression=on"`.
public static class BenchServer
{
    /// The settings beyond the platform's, from BENCH_PG.
    public static IReadOnlyDictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>();
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_PG") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            var (name, value) = (parts[0], parts.ElementAtOrDefault(1) ?? "");
            // pg_ctl hands the server's options to a shell: a space or a `|` would end the setting, or start a pipe.
            if (!System.Text.RegularExpressions.Regex.IsMatch(name + value, "^[A-Za-z0-9_.%:+-]+$"))
                throw new ArgumentException($"BENCH_PG: '{pair}' holds a character the server's command line cannot carry (use letters, digits and _ . % : + -).");
            settings[name] = value;
        }
        return settings;
    }

    /// Before measuring, the fresh server writes max_wal_size worth of WAL segments (16 MB each; BENCH_PREWARM_WAL=n
    /// for another number, 0 for none; none in smoke mode) and checkpoints twice, so from then on it recycles old
    /// segments as a server in steady state does, instead of creating and zero-filling a new 16 MB file each time one
    /// fills — which a freshly initdb'd cluster does for its first gigabytes, stalling every commit behind it
    /// (docs/benchmarks.md).
    public static async Task PrewarmAsync(string connectionString, bool smoke)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var size = new Npgsql.NpgsqlCommand(
            "select (select setting::bigint from pg_settings where name = 'max_wal_size') * 1048576 / (select setting::bigint from pg_settings where name = 'wal_segment_size')",
            connection);
        var full = Convert.ToInt32(await size.ExecuteScalarAsync());
        var segments = int.TryParse(Environment.GetEnvironmentVariable("BENCH_PREWARM_WAL"), out var given) ? given : smoke ? 0 : full;
        if (segments <= 0) return;
        async Task Run(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
            await command.ExecuteNonQueryAsync();
        }
        await Run("create table if not exists bench_wal_fill (id bigserial primary key, at timestamptz default now())");
        for (var i = 0; i < segments; i++) await Run("insert into bench_wal_fill default values; select pg_switch_wal()");
        await Run("checkpoint");
        await Run("insert into bench_wal_fill default values; select pg_switch_wal()");
        await Run("checkpoint");
        await Run("drop table bench_wal_fill");
        Console.WriteLine($"  PostgreSQL: wrote {segments} WAL segments and checkpointed, so segments are recycled from now on");
        _prewarmed = segments;
    }

    private static int _prewarmed;

    public static string Describe() =>
        string.Join(", ", Enate.Testing.TestDatabase.DurableSettings.Concat(Settings()).GroupBy(s => s.Key).Select(g => $"{g.Key}={g.Last().Value}")) +
        (_prewarmed > 0 ? $", WAL segments recycled after {_prewarmed} written at start" : ", fresh WAL (no segments to recycle)");
}
