using Enate.AppHost.Postgres;
using Npgsql;

namespace Enate.Testing;

/// A real PostgreSQL for one test assembly: the one given in ConnectionStrings__enate, or a
/// throwaway server started from the machine's binaries in a temporary folder.
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly LocalPostgres? _server;

    private readonly bool _durable;
    private readonly IReadOnlyDictionary<string, string>? _settings;

    private TestDatabase(string connectionString, LocalPostgres? server, bool durable = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        ConnectionString = connectionString;
        _server = server;
        _durable = durable;
        _settings = settings;
    }

    /// Whether the test started this server itself, and so can stop and start it.
    public bool IsOwn => _server is not null;

    /// Stops the server as a crash would (immediate shutdown: no checkpoint) and starts it again on the same data.
    public async Task RestartAsync()
    {
        if (_server is null) throw new InvalidOperationException("The server was given (ConnectionStrings__enate): a test cannot restart it.");
        await _server.StopAsync();
        // Pooled connections to the old server are broken: this process's next ones are opened anew.
        NpgsqlConnection.ClearAllPools();
        await _server.StartAsync(_durable, settings: _settings);
    }

    public string ConnectionString { get; }

    /// The settings a durable server gets besides the ones given: the platform's own (LocalPostgres.DurableSettings).
    public static IReadOnlyDictionary<string, string> DurableSettings => LocalPostgres.DurableSettings;

    /// A test server skips fsync (its data is thrown away); a benchmark asks for a durable one, because a
    /// "recorded" request means one that survives a power cut, and that is what its baseline must pay for too.
    /// `settings` are further server settings (ignored when ConnectionStrings__enate names a server).
    public static async Task<TestDatabase> StartAsync(string database = "enate", bool durable = false, IReadOnlyDictionary<string, string>? settings = null)
    {
        var given = Environment.GetEnvironmentVariable("ConnectionStrings__enate");
        if (!string.IsNullOrWhiteSpace(given)) return new TestDatabase(given, null);

        if (!LocalPostgres.BinariesExist) throw new InvalidOperationException(LocalPostgres.MissingBinariesMessage);

        var root = Path.Combine(Path.GetTempPath(), "enate-tests");
        await StopAbandonedAsync(root);
        var folder = Path.Combine(root, $"{database}-{Guid.NewGuid():N}");
        var server = LocalPostgres.For(folder, LocalPostgres.FreePort());
        await server.InitializeAsync(durable);
        await File.WriteAllTextAsync(Path.Combine(folder, OwnerFile), Environment.ProcessId.ToString());
        await server.StartAsync(durable, settings: settings);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync().GetAwaiter().GetResult();

        await using (var connection = new NpgsqlConnection(server.ConnectionString()))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {database}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new TestDatabase(server.ConnectionString(database), server, durable, settings);
    }

    private const string OwnerFile = "enate-test-owner.pid";

    /// Servers whose test process died (killed, crashed, timed out) would otherwise run on forever.
    private static async Task StopAbandonedAsync(string root)
    {
        if (!Directory.Exists(root)) return;
        foreach (var folder in Directory.GetDirectories(root))
        {
            var owner = Path.Combine(folder, OwnerFile);
            if (!File.Exists(owner) || !int.TryParse(await File.ReadAllTextAsync(owner), out var pid) || IsAlive(pid)) continue;
            try
            {
                await LocalPostgres.For(folder, 0).StopAsync();
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                // Another test process may be cleaning the same folder.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is null) return;
        await _server.StopAsync();
        try
        {
            Directory.Delete(_server.DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}

public static class FreePorts
{
    public static int Next() => LocalPostgres.FreePort();
}
