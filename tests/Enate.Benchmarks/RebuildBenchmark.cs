using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Marten;

namespace Enate.Benchmarks;

/// POST /api/v1/admin/projections/rebuild in the API process (progress saved each second, then the catch-up and
/// orphan passes) beside Marten's plain daemon rebuild of the same projections run from here (its default: truncate,
/// then insert). Every rebuild must leave the read models exactly as the live projections wrote them.
public static class RebuildBenchmark
{
    public static async Task<IEnumerable<Result>> RunAsync(BenchPlatform platform, SyntheticLog log)
    {
        var events = await platform.ScalarAsync("select count(*) from enate.mt_events");
        var live = await log.ReadModelsFingerprintAsync();
        // The first of each pays for cold caches, JIT and the daemon's first high-water scan: not measured.
        await PlainAsync(log.Store);
        await OursAsync(platform);
        // Alternated rounds, the median of each side: one rebuild takes seconds, and the machine's noise is as long.
        var server = ServerCpu.For(platform.ConnectionString);
        var plains = new List<(TimeSpan Took, TimeSpan Process, TimeSpan Database)>();
        var ours = new List<(TimeSpan Took, TimeSpan Process, TimeSpan Database)>();
        for (var round = 0; round < Rounds; round++)
        {
            plains.Add(await Timed(() => PlainAsync(log.Store), () => Process.GetCurrentProcess().TotalProcessorTime));
            await Same(live, log, "Marten's rebuild");
            await Statements.ResetAsync(platform.ConnectionString);
            ours.Add(await Timed(async () => (await OursAsync(platform)).Took, platform.Api.CpuTime));
            await Statements.PrintAsync(platform.ConnectionString, $"our rebuild of {events:N0} events, round {round + 1}");
            await Same(live, log, "the endpoint's rebuild");
        }
        var (plain, plainProcess, plainDatabase) = Median(plains);
        var (our, ourProcess, ourDatabase) = Median(ours);
        var projections = string.Join(" and ", log.Store.Options.Events.Projections().Select(p => p.Name));

        return
        [
            new Result("audit: rebuild of every read model (POST /api/v1/admin/projections/rebuild)", $"{events / our.TotalSeconds:N0} events/s",
                $"Marten's plain daemon rebuild: {events / plain.TotalSeconds:N0} events/s", plain / our,
                $"{events:N0} events ({events / SyntheticLog.EventsPerRun:N0} runs), {projections}; ours in the API process, one pass projecting " +
                $"each stream from scratch and overwriting in place, polled each 0.1 s; Marten's from here, truncating each read model " +
                $"first (unsafe with live appends); both left every read model as the live projections wrote it; median of {Rounds} alternated " +
                $"rounds; CPU per 1,000 events: ours {Cpu(ourProcess, ourDatabase)}, Marten's {Cpu(plainProcess, plainDatabase)}"),
        ];

        string Cpu(TimeSpan process, TimeSpan database)
        {
            double PerThousand(TimeSpan cpu) => cpu.TotalMilliseconds * 1000 / events;
            return $"{PerThousand(process + database):N0} ms (rebuilding process {PerThousand(process):N0}, PostgreSQL {PerThousand(database):N0})";
        }

        async Task<(TimeSpan Took, TimeSpan Process, TimeSpan Database)> Timed(Func<Task<TimeSpan>> measure, Func<TimeSpan> process)
        {
            var (before, database) = (process(), server?.CpuTime() ?? TimeSpan.Zero);
            var took = await measure();
            return (took, process() - before, (server?.CpuTime() ?? TimeSpan.Zero) - database);
        }
    }

    private const int Rounds = 3;

    private static (TimeSpan Took, TimeSpan Process, TimeSpan Database) Median(List<(TimeSpan Took, TimeSpan Process, TimeSpan Database)> rounds) =>
        rounds.OrderBy(r => r.Took).ElementAt(rounds.Count / 2);

    private static async Task Same(string live, SyntheticLog log, string what)
    {
        var now = await log.ReadModelsFingerprintAsync();
        if (now != live) throw new InvalidOperationException($"{what} changed the read models: {live} became {now}");
    }

    private static async Task<TimeSpan> PlainAsync(IDocumentStore store)
    {
        var watch = Stopwatch.StartNew();
        using var daemon = await store.BuildProjectionDaemonAsync();
        foreach (var name in store.Options.Events.Projections().Select(p => p.Name).Distinct())
            await daemon.RebuildProjectionAsync(name, TimeSpan.FromHours(1), CancellationToken.None);
        return watch.Elapsed;
    }

    private static async Task<(TimeSpan Took, JsonElement Rebuild)> OursAsync(BenchPlatform platform)
    {
        var watch = Stopwatch.StartNew();
        var accepted = await platform.Client.PostAsync("/api/v1/admin/projections/rebuild", null);
        accepted.EnsureSuccessStatusCode();
        var url = accepted.Headers.Location!.ToString();
        while (true)
        {
            await Task.Delay(100);
            var state = await platform.Client.GetFromJsonAsync<JsonElement>(url);
            var status = state.GetProperty("status").GetString();
            if (status == "running") continue;
            if (status != "succeeded") throw new InvalidOperationException($"The rebuild ended {status}: {state}");
            return (watch.Elapsed, state);
        }
    }
}
