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
public static class RerunBenchmark
{
    private const int Senders = 16;

    public static async Task<IEnumerable<Result>> RunAsync(BenchPlatform platform, int runs)
    {
        await using var partner = await Partner.StartAsync();
        (await platform.Client.PutAsJsonAsync("/api/v1/connections/partner",
            new { kind = "http", baseUrl = partner.Url, auth = new { type = "none" }, timeoutSeconds = 10 })).EnsureSuccessStatusCode();
        foreach (var key in new[] { "warm", "flaky", "fresh" }) await PutRecipeAsync(platform, key);

        await TriggerAsync(platform, "warm", Math.Min(runs, 200), "succeeded");
        partner.Failing = true;
        var failing = await TriggerAsync(platform, "flaky", runs, "failed");
        partner.Failing = false;
        var fresh = await TriggerAsync(platform, "fresh", runs, "succeeded");

        var watch = Stopwatch.StartNew();
        var accepted = await platform.Client.PostAsJsonAsync("/api/v1/replays", new
        {
            filter = new { recipe = "flaky", status = "failed" }, recipeVersion = "original", reason = "the partner is fixed",
        });
        accepted.EnsureSuccessStatusCode();
        var replayId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("replayId").GetGuid();
        JsonElement job;
        var deadline = DateTime.UtcNow.AddHours(1);
        do
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The bulk re-run did not complete within an hour.");
            await Task.Delay(250);
            job = await platform.Client.GetFromJsonAsync<JsonElement>($"/api/v1/replays/{replayId}");
        } while (job.GetProperty("status").GetString() == "running");
        var rerun = watch.Elapsed;
        if (job.GetProperty("succeeded").GetInt32() != runs) throw new InvalidOperationException($"The bulk re-run ended: {job}");

        return
        [
            new Result($"replay: bulk re-run of {runs:N0} failed runs (POST /api/v1/replays)", $"{runs / rerun.TotalSeconds:N0} runs/s",
                $"{runs:N0} fresh runs through the run trigger: {runs / fresh.TotalSeconds:N0} runs/s", fresh / rerun,
                $"accepted → job completed, all {runs:N0} re-runs succeeded; one HTTP step to a local partner; the job keeps at most " +
                $"{job.GetProperty("concurrency").GetInt32()} re-runs in flight and advances every 0.5 s; baseline: {Senders} senders, " +
                $"first request → last run finished; the failing runs took {failing.TotalSeconds:N0} s ({runs / failing.TotalSeconds:N0} runs/s)"),
        ];
    }

    private static async Task PutRecipeAsync(BenchPlatform platform, string key)
    {
        var definition = new
        {
            name = key,
            trigger = new { type = "api" },
            steps = new object[] { new { id = "deliver", type = "http", connection = "partner", method = "POST", path = "/deliver", body = "{\"n\": {{ input.n }}}" } },
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

    /// The partner: 400 while failing (a client error the run cannot retry), else 200.
    private sealed class Partner : IAsyncDisposable
    {
        private WebApplication _app = null!;
        public volatile bool Failing;
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
            await partner._app.StartAsync();
            return partner;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
