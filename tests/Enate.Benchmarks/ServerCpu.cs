using Npgsql;

namespace Enate.Benchmarks;

/// CPU time the PostgreSQL server has used so far: the postmaster, its live backends, and (through the
/// postmaster's reaped-children times) the backends that have exited. Linux /proc, 100 ticks a second.
/// Throughput on a shared machine moves with whatever else runs; CPU per request moves much less, so it
/// says which side (the process or the database) a change made cheaper.
public sealed class ServerCpu
{
    private readonly int _postmaster;

    private ServerCpu(int postmaster) => _postmaster = postmaster;

    /// The server behind a connection string, found by the port on its command line; null when it is not a
    /// server on this machine (an external ConnectionStrings__enate, say).
    public static ServerCpu? For(string connectionString)
    {
        var port = new NpgsqlConnectionStringBuilder(connectionString).Port.ToString();
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid)) continue;
            try
            {
                var args = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                var p = Array.IndexOf(args, "-p");
                if (args[0].EndsWith("/postgres") && p >= 0 && p + 1 < args.Length && args[p + 1] == port) return new ServerCpu(pid);
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }
        return null;
    }

    public TimeSpan CpuTime()
    {
        var ticks = 0L;
        foreach (var folder in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // fields: [1] parent, [11] utime, [12] stime, [13] cutime, [14] cstime
                if (pid == _postmaster) ticks += long.Parse(fields[11]) + long.Parse(fields[12]) + long.Parse(fields[13]) + long.Parse(fields[14]);
                else if (int.Parse(fields[1]) == _postmaster) ticks += long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while being read.
            }
        }
        return TimeSpan.FromSeconds(ticks / 100.0);
    }
}
