namespace Enate.Benchmarks;

/// Settings of the benchmarks' durable PostgreSQL, for the baseline and the platform alike. BENCH_PG adds or
/// overrides some for an experiment: `BENCH_PG="shared_buffers=2GB;wal_compression=on"`.
public static class BenchServer
{
    private static readonly Dictionary<string, string> Defaults = new();

    public static IReadOnlyDictionary<string, string> Settings()
    {
        var settings = new Dictionary<string, string>(Defaults);
        foreach (var pair in (Environment.GetEnvironmentVariable("BENCH_PG") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (name, value) = (pair.Split('=', 2)[0], pair.Split('=', 2).ElementAtOrDefault(1) ?? "");
            // pg_ctl hands the server's options to a shell: a space or a `|` would end the setting, or start a pipe.
            if (!System.Text.RegularExpressions.Regex.IsMatch(name + value, "^[A-Za-z0-9_.%:+-]+$"))
                throw new ArgumentException($"BENCH_PG: '{pair}' holds a character the server's command line cannot carry (use letters, digits and _ . % : + -).");
            settings[name] = value;
        }
        return settings;
    }

    public static string Describe() => Settings().Count == 0 ? "stock settings" : string.Join(", ", Settings().Select(s => $"{s.Key}={s.Value}"));
}
