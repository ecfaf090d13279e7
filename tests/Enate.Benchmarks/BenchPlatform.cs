using System.Diagnostics;
using System.Net.Http.Headers;
using Enate.Testing;
using Npgsql;

namespace Enate.Benchmarks;

/// The API and Workers as real processes on one database, with an admin key of tenant `demo`.
public sealed class BenchPlatform : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private WorkerProcess? _workers;

    private BenchPlatform(string connectionString, string key, Dictionary<string, string> settings)
    {
        ConnectionString = connectionString;
        Key = key;
        _settings = settings;
    }

    public string ConnectionString { get; }
    public string Key { get; }
    public WorkerProcess Api { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    /// The Workers process, once started.
    public WorkerProcess Workers => _workers ?? throw new InvalidOperationException("The Workers are not started.");

    public static async Task<BenchPlatform> StartAsync(string connectionString, string key)
    {
        var platform = new BenchPlatform(connectionString, key, new Dictionary<string, string>
        {
            ["Enate__Bootstrap__ApiKey"] = key,
            ["Enate__RateLimits__PerWebhookPerSecond"] = "1000000",
            ["Enate__RateLimits__PerKeyPerSecond"] = "1000000",
            ["Enate__RateLimits__PerTenantPerSecond"] = "1000000",
            ["Enate__RateLimits__AnonymousPerAddressPerSecond"] = "1000000",
            ["Enate__Outbound__Allow__0"] = "127.0.0.0/8",
            ["Logging__LogLevel__Default"] = "Warning",
            // Checkpoints are signed every second while the log is chained, so verification meets many of them.
            ["Enate__Audit__SigningKey"] = "benchmark-audit-signing-key-not-a-secret-0001",
            ["Enate__Audit__Witness__Folder"] = Path.Combine(Path.GetTempPath(), $"enate-bench-witness-{Guid.NewGuid():N}"),
            ["Enate__Audit__CheckpointEvery"] = "00:00:01",
        });
        await platform.StartApiAsync();
        return platform;
    }

    public async Task RestartApiAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
        await StartApiAsync();
    }

    public void StartWorkers() => _workers = WorkerProcess.Start(ConnectionString, "Enate.Workers", FreePorts.Next(), _settings);

    /// Waits until the Workers have hash-chained every event, and says how long that took.
    public async Task<(long Events, TimeSpan Took)> WaitForChainAsync()
    {
        var watch = Stopwatch.StartNew();
        var events = await ScalarAsync("select count(*) from enate.mt_events");
        var deadline = DateTime.UtcNow.AddMinutes(30);
        while (await ScalarAsync("select count(*) from pg_class where oid = to_regclass('enate.audit_chain')") == 0 ||
               await ScalarAsync("select count(*) from enate.audit_chain") < events)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The Workers did not chain the log within 30 minutes.");
            await Task.Delay(250);
        }
        return (events, watch.Elapsed);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private async Task StartApiAsync()
    {
        var port = FreePorts.Next();
        Api = WorkerProcess.Start(ConnectionString, "Enate.Api", port, _settings);
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(30) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        await IngestBenchmark.WaitHealthyAsync(Client, TimeSpan.FromSeconds(120));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Api.DisposeAsync();
        if (_workers is not null) await _workers.DisposeAsync();
    }
}
