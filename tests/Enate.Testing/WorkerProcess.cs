using System.Diagnostics;

namespace Enate.Testing;

/// The Workers as a real operating-system process, so a test can kill it the hard way.
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process, string logPath)
    {
        _process = process;
        LogPath = logPath;
    }

    public int Id => _process.Id;

    /// The key that seals the Data Protection key ring in every test process, in process or not: processes that share a
    /// database must share it, or one cannot read the keys another wrote.
    public const string KeyEncryptionKey = "test-key-encryption-key-not-a-secret-0001";

    /// Where what the process writes to its console is kept.
    public string LogPath { get; }

    /// What the process has written to its console so far.
    public string[] Output()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n');
    }

    public static WorkerProcess Start(string connectionString) => Start(connectionString, "Enate.Workers", FreePorts.Next());

    /// Any of the platform's projects (Enate.Workers, Enate.Api) as a process on the given port, with extra settings.
    public static WorkerProcess Start(string connectionString, string project, int port, IDictionary<string, string>? settings = null)
    {
        return StartDll(Dll(project), connectionString, port, settings);
    }

    /// A built project's program.
    public static string Dll(string project)
    {
        var dll = Path.Combine(RepositoryRoot(), project, "bin", BuildConfiguration(), "net10.0", $"{project}.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"Build the solution first: {project} is not built.", dll);
        return dll;
    }

    /// Runs a project's program with arguments (a command, not a server) to its end: its exit code and what it wrote.
    public static async Task<(int ExitCode, string Output)> RunAsync(string project, string connectionString,
        IDictionary<string, string> settings, params string[] arguments)
    {
        var dll = Dll(project);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["ConnectionStrings__enate"] = connectionString;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment["Enate__DataProtection__KeyEncryptionKey"] = KeyEncryptionKey;
        foreach (var (name, value) in settings) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    /// Any built program (a path to its dll) as a process on the given port, with extra settings and arguments.
    public static WorkerProcess StartDll(string dll, string connectionString, int port, IDictionary<string, string>? settings = null, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["ConnectionStrings__enate"] = connectionString;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment["Enate__DataProtection__KeyEncryptionKey"] = KeyEncryptionKey;
        foreach (var (name, value) in settings ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = Process.Start(info)!;
        // Kept for diagnosis when a test fails: the process's own console.
        var logPath = Path.Combine(Path.GetTempPath(), $"enate-worker-{process.Id}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, logPath);
    }

    /// The most memory the process has held resident so far (Linux VmHWM), in MiB.
    public double PeakMemoryMiB()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
        return line is null ? 0 : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    /// CPU time the process has used so far (user + system), from /proc/{pid}/stat (Linux, 100 ticks a second).
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0);
    }

    /// SIGKILL: no shutdown hooks, no flushing, like a crashed machine.
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }

    private static string BuildConfiguration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enate.Platform.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Enate.Platform.sln not found above the test folder.");
    }
}
