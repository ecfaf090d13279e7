using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Enate.Testing;
using Npgsql;

namespace Enate.Benchmarks;

/// How punctually schedules fire: ten recipes on a ten-second cron, through the real API and Workers processes on a
/// durable PostgreSQL, for `--minutes` (60 by default; `--only schedule --minutes 5` for a quick look). For each
/// occurrence: the delay from it to its firing (the run committed with its inbound record) and to its run's start,
/// as p50, p99 and the worst; and the occurrences fired against those due. Not part of a full run (it takes an hour).
public static class ScheduleBenchmark
{
    private const int Recipes = 10;

    public static async Task<IEnumerable<Result>> RunAsync(bool smoke, TimeSpan length)
    {
        if (smoke) length = TimeSpan.FromSeconds(25);
        await using var database = await TestDatabase.StartAsync("schedule", durable: true, settings: BenchServer.Settings());
        var key = "bench-admin-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using var platform = await BenchPlatform.StartAsync(database.ConnectionString, key);
        platform.StartWorkers();
        for (var i = 0; i < Recipes; i++)
        {
            using var saved = await platform.Client.PutAsJsonAsync($"/api/v1/recipes/tick-{i}", new
            {
                name = $"Tick {i}",
                trigger = new { type = "schedule", cron = "*/10 * * * * *" },
                steps = new object[] { new { id = "echo", type = "transform", select = "input.schedule" } },
            });
            saved.EnsureSuccessStatusCode();
        }
        var from = DateTimeOffset.UtcNow;
        Console.WriteLine($"  schedule: {Recipes} recipes every 10 s for {length}");
        await Task.Delay(length);
        var to = DateTimeOffset.UtcNow;
        foreach (var i in Enumerable.Range(0, Recipes))
            (await platform.Client.PostAsync($"/api/v1/recipes/tick-{i}/deactivate", null)).EnsureSuccessStatusCode();
        await Task.Delay(TimeSpan.FromSeconds(3));

        var (fired, started) = await DelaysAsync(database.ConnectionString);
        // Occurrences due while the schedules were on: every tenth second after the first recipe was saved.
        var due = Recipes * (long)Math.Floor((to - from).TotalSeconds / 10);
        double P(List<double> values, double p) => values.Count == 0 ? double.NaN : values.Order().ElementAt((int)Math.Min(values.Count - 1, Math.Ceiling(p * values.Count) - 1));
        return
        [
            new Result("schedule: occurrence to firing (run committed)", $"p50 {P(fired, 0.5):0} ms, p99 {P(fired, 0.99):0} ms, worst {fired.DefaultIfEmpty().Max():0} ms",
                "the scheduler's look every 1 s", P(fired, 0.99) / 1000, $"{fired.Count} occurrences over {length.TotalMinutes:0.#} min"),
            new Result("schedule: occurrence to the run's start", $"p50 {P(started, 0.5):0} ms, p99 {P(started, 0.99):0} ms, worst {started.DefaultIfEmpty().Max():0} ms",
                "the scheduler's look every 1 s", P(started, 0.99) / 1000, "includes the Workers taking the run from the queue"),
            new Result("schedule: occurrences fired of those due", $"{fired.Count:N0}", $"{due:N0} due", due == 0 ? 0 : fired.Count / (double)due,
                "none fired twice: each occurrence's delivery key is unique"),
        ];
    }

    private static async Task<(List<double> Fired, List<double> Started)> DelaysAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var starts = new Dictionary<Guid, DateTimeOffset>();
        await using (var runs = new NpgsqlCommand("select id, data ->> 'startedAt' from enate.mt_doc_runsummary where data ->> 'startedAt' is not null", connection))
        await using (var reader = await runs.ExecuteReaderAsync())
            while (await reader.ReadAsync()) starts[reader.GetGuid(0)] = DateTimeOffset.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
        var (fired, started) = (new List<double>(), new List<double>());
        await using var inbound = new NpgsqlCommand(
            "select data -> 'body' ->> 'text', data -> 'runIds' ->> 0 from enate.mt_events where type = 'inbound_request_recorded' and data ->> 'trigger' = 'schedule'", connection);
        await using var rows = await inbound.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            var schedule = JsonDocument.Parse(rows.GetString(0)).RootElement.GetProperty("schedule");
            var occurrence = schedule.GetProperty("occurrence").GetDateTimeOffset();
            fired.Add((schedule.GetProperty("firedAt").GetDateTimeOffset() - occurrence).TotalMilliseconds);
            if (starts.TryGetValue(Guid.Parse(rows.GetString(1)), out var at)) started.Add((at - occurrence).TotalMilliseconds);
        }
        return (fired, started);
    }
}
