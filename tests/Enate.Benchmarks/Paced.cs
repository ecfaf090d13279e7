using System.Diagnostics;

namespace Enate.Benchmarks;

/// SenderLateP99Ms: how late the sender itself dispatched its requests (99th percentile). It is part of the
/// latency, and says when a percentile measures the load generator's share of the machine rather than the server.
/// WorstWindowP50Ms: the median latency of the requests scheduled in the worst quarter second — a stall shows there.
public sealed record PacedResult(double OfferedPerSecond, double P50Ms, double P99Ms, int Sent, int Failed, double SenderLateP99Ms, double WorstWindowP50Ms);

/// Open-loop load at a fixed rate: request i leaves at i / rate whatever happened to the ones before it, and its
/// latency counts from that scheduled moment, so a stall shows up in the percentiles instead of slowing the sender
/// down (wrk's closed loop would hide it: a slow answer there just means fewer requests). The first two seconds
/// open the client's connections and are not counted.
public static class Paced
{
    public static async Task<PacedResult> RunAsync(Uri baseAddress, Func<int, HttpRequestMessage> request, double rate, int seconds)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var skipped = (int)(rate * 2);
        var total = skipped + (int)(rate * seconds);
        var latencies = new double[total];
        var late = new double[total];
        var failed = 0;
        var sends = new Task[total];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i / rate * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1)) await Task.Delay(wait);
            late[i] = Math.Max(0, Stopwatch.GetElapsedTime(due).TotalMilliseconds);
            sends[i] = SendAsync(i, due);
        }
        await Task.WhenAll(sends);
        // BENCH_LATENCY_DUMP=folder: every request's scheduled moment and latency, for finding where a tail comes from.
        if (Environment.GetEnvironmentVariable("BENCH_LATENCY_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            await File.WriteAllLinesAsync(Path.Combine(dump, $"paced-{baseAddress.Port}-{rate:0}-{DateTime.UtcNow:HHmmss}.csv"),
                latencies.Select((l, i) => $"{i / rate * 1000:0.0},{late[i]:0.00},{l:0.00}"));
        }
        var sorted = latencies.Skip(skipped).Order().ToArray();
        var lateSorted = late.Skip(skipped).Order().ToArray();
        var perWindow = Math.Max(1, (int)(rate / 4));
        var worstWindow = latencies.Skip(skipped).Chunk(perWindow).Max(w => w.Order().ElementAt(w.Length / 2));
        return new PacedResult(rate, sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))], sorted.Length, failed,
            lateSorted[Math.Min(lateSorted.Length - 1, (int)(lateSorted.Length * 0.99))], worstWindow);

        async Task SendAsync(int i, long due)
        {
            try
            {
                using var message = request(i);
                using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref failed);
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref failed);
            }
            catch (TaskCanceledException)
            {
                Interlocked.Increment(ref failed);
            }
            latencies[i] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
        }
    }
}
