using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Enate.AppHost.Postgres;

/// Runs a PostgreSQL server from the machine's own binaries: the app host's `local` mode and the
/// test fixtures use it where no container runtime answers. Compiled into the test projects too.
internal sealed class LocalPostgres
{
    public const string MissingBinariesMessage =
        "No PostgreSQL server binaries (initdb, postgres) were found on PATH or under /usr/lib/postgresql/*/bin, " +
        "and no container runtime answered. Install one of them: 'apt-get install -y postgresql' (Debian/Ubuntu), " +
        "'brew install postgresql@16' (macOS), or Docker/Podman; or give a connection string in ConnectionStrings:enate.";

    private const string ServiceUser = "postgres";

    private LocalPostgres(string binDirectory, string dataDirectory, int port)
    {
        BinDirectory = binDirectory;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public string BinDirectory { get; }
    public string DataDirectory { get; }
    public int Port { get; }

    /// postgres refuses to run as root, so as root every server command runs as the `postgres` user.
    public static bool RunsAsRoot => OperatingSystem.IsLinux() && Environment.UserName == "root";

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username={ServiceUser};Password=postgres;Database={database}";

    public static LocalPostgres For(string dataDirectory, int port) =>
        new(FindBinDirectory() ?? throw new InvalidOperationException(MissingBinariesMessage), dataDirectory, port);

    public static bool BinariesExist => FindBinDirectory() is not null;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// Creates the cluster on first use; a folder that already holds one is kept with its data.
    public async Task InitializeAsync(bool durable, CancellationToken ct = default)
    {
        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION"))) return;

        Directory.CreateDirectory(DataDirectory);
        GiveToServiceUser(DataDirectory);
        var args = new List<string> { "-D", DataDirectory, "-U", ServiceUser, "-A", "trust", "-E", "UTF8", "--locale=C" };
        if (!durable) args.Add("--no-sync");
        await RunToEndAsync("initdb", args, ct);
    }

    /// The platform's server settings for a durable database: checkpoints spaced by up to 4 GB of WAL or 15 minutes
    /// instead of PostgreSQL's 1 GB and 5 minutes. An event store writes WAL all the time (~5 kB a webhook): with the
    /// stock settings a checkpoint began every ~50 s at half the ingest's rate, each followed by a burst of full-page
    /// images in the WAL the 202s wait for; now one begins every ~3.5 minutes.
    /// min_wal_size keeps 1 GB of WAL segments to recycle, so a burst after a quiet hour does not create them afresh.
    /// The cost: up to ~4 GB of WAL on disk and a longer crash recovery (the WAL since the last checkpoint).
    public static readonly IReadOnlyDictionary<string, string> DurableSettings = new Dictionary<string, string>
    {
        ["max_wal_size"] = "4GB",
        ["min_wal_size"] = "1GB",
        ["checkpoint_timeout"] = "15min",
    };

    /// The command and arguments that run the server in the foreground (for an executable resource).
    /// `settings`: further server settings (name → value), e.g. a benchmark's production-like memory.
    public (string Command, string[] Args) ForegroundCommand(bool durable, IReadOnlyDictionary<string, string>? settings = null)
    {
        var serverArgs = new List<string>
        {
            "-D", DataDirectory, "-p", Port.ToString(), "-k", SocketDirectory(),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
        };
        if (!durable)
        {
            // Test databases are thrown away, so they need not survive a crash of the machine: no fsync. They do survive
            // a crash of the server (a test stops it as by a crash and starts it again), so a commit still waits for its
            // WAL to be written: what the server acknowledged before the crash is there after it, as in production.
            serverArgs.AddRange(["-c", "fsync=off", "-c", "full_page_writes=off"]);
        }
        // Later settings win: the given ones override the platform's.
        var all = (durable ? DurableSettings : new Dictionary<string, string>()).Concat(settings ?? new Dictionary<string, string>());
        foreach (var (name, value) in all) serverArgs.AddRange(["-c", $"{name}={value}"]);
        return AsServiceUser(Path.Combine(BinDirectory, "postgres"), serverArgs);
    }

    /// Starts the server in the background and waits until it accepts connections.
    public async Task StartAsync(bool durable, CancellationToken ct = default, IReadOnlyDictionary<string, string>? settings = null)
    {
        var (_, serverArgs) = ForegroundCommand(durable, settings);
        var options = string.Join(' ', serverArgs.SkipWhile(a => a != "-p"));
        var log = Path.Combine(DataDirectory, "server.log");
        await RunToEndAsync("pg_ctl", ["-D", DataDirectory, "-l", log, "-w", "-t", "60", "-o", options, "start"], ct);
    }

    public async Task StopAsync()
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) return;
        await RunToEndAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);
    }

    private string SocketDirectory()
    {
        var sockets = Path.Combine(DataDirectory, "sockets");
        if (!Directory.Exists(sockets))
        {
            Directory.CreateDirectory(sockets);
            GiveToServiceUser(sockets);
        }
        return sockets;
    }

    private (string Command, string[] Args) AsServiceUser(string program, IEnumerable<string> args) =>
        RunsAsRoot
            // setpriv execs in place, so the process that is watched and stopped is postgres itself.
            ? ("setpriv", ["--reuid", ServiceUser, "--regid", ServiceUser, "--init-groups", "--reset-env", program, .. args])
            : (program, [.. args]);

    private async Task RunToEndAsync(string tool, IEnumerable<string> args, CancellationToken ct)
    {
        var (command, allArgs) = AsServiceUser(Path.Combine(BinDirectory, tool), args);
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var arg in allArgs) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {tool}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{tool} failed with exit code {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    private static void GiveToServiceUser(string directory)
    {
        if (!RunsAsRoot) return;
        var info = new ProcessStartInfo("chown", ["-R", $"{ServiceUser}:{ServiceUser}", directory]) { UseShellExecute = false };
        using var chown = Process.Start(info)!;
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new InvalidOperationException($"chown of {directory} to {ServiceUser} failed.");
    }

    private static string? FindBinDirectory()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "postgres"))
            .FirstOrDefault(File.Exists);
        if (onPath is not null)
        {
            // Follow the link so initdb and pg_ctl are taken from the same installation.
            var target = new FileInfo(onPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? onPath;
            var dir = Path.GetDirectoryName(target)!;
            if (File.Exists(Path.Combine(dir, "initdb"))) return dir;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot)) return null;
        return Directory.GetDirectories(debianRoot)
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "postgres")) && File.Exists(Path.Combine(bin, "initdb")))
            .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
            .FirstOrDefault();
    }
}
