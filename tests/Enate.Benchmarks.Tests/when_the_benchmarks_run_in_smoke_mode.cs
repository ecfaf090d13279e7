using System.Diagnostics;
using Enate.Testing;

namespace Enate.Benchmarks.Tests;

/// Benchmarks are not tests and CI does not time anything; but the harness must not rot between the runs that
/// are quoted. Smoke mode runs every group for a second or two (real PostgreSQL, real API and Workers processes,
/// wrk when installed) and writes nothing; this only checks that it gets to the end with a figure in every row.
public sealed class when_the_benchmarks_run_in_smoke_mode
{
    [Fact]
    public async Task every_group_reports_a_figure()
    {
        var root = WorkerProcess.RepositoryRoot();
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var runner = Path.Combine(root, "tests", "Enate.Benchmarks", "bin", configuration, "net10.0", "Enate.Benchmarks.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { runner, "--smoke" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(runner)!,
        };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        // A guard against a hung run, not a timing: alone the run takes about 3 minutes, beside the other suites on 2
        // cores of a slow host up to 7.
        var limit = TimeSpan.FromMinutes(15);
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The smoke run did not finish in {limit.TotalMinutes} minutes:\n{await output}");
        }

        var text = await output;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{await errors}");
        var rows = text.Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("| benchmark")).ToList();
        foreach (var group in new[] { "transform", "engine", "ingest", "end to end", "Workers replicas", "schedule", "rebuild", "export", "verify", "sign", "re-run" })
            Assert.Contains(rows, r => r.Contains(group, StringComparison.OrdinalIgnoreCase));
        // wrk comes from apt (.ci/run installs it); without it the ingest rows say so instead of a figure.
        if (File.Exists("/usr/bin/wrk")) Assert.DoesNotContain(rows, r => r.Contains("not measured"));
    }
}
