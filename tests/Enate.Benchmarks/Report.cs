using System.Runtime.InteropServices;
using System.Text;

namespace Enate.Benchmarks;

public sealed record Result(string Name, string Figure, string Baseline, double Ratio, string Note);

public static class Report
{
    public static void Print(IReadOnlyList<Result> results, bool smoke, string? only = null)
    {
        var text = new StringBuilder();
        text.AppendLine($"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; {DateTime.UtcNow:u}{(smoke ? " (smoke mode: too short to quote)" : "")}");
        text.AppendLine();
        text.AppendLine("| benchmark | figure | baseline in the same run | ratio | note |");
        text.AppendLine("|---|---|---|---|---|");
        foreach (var r in results) text.AppendLine($"| {r.Name} | {r.Figure} | {r.Baseline} | {r.Ratio:0.00} | {r.Note} |");
        Console.WriteLine(text);
        if (smoke) return;
        var docs = Path.Combine(Enate.Testing.WorkerProcess.RepositoryRoot(), "docs");
        if (only is not null)
        {
            // A run of one group (`--only ingest`) writes its own file, so it never overwrites a full run's figures.
            var path = Path.Combine(docs, $"benchmarks-latest-{only}.md");
            File.WriteAllText(path, "# Latest benchmark run\n\nWritten by `tests/Enate.Benchmarks`.\n\n" + text);
            Console.WriteLine($"Written to {path}");
            return;
        }
        // A full run's table goes into docs/benchmarks.md, between its markers.
        var reference = Path.Combine(docs, "benchmarks.md");
        var current = File.ReadAllText(reference);
        const string start = "<!-- figures:start -->", end = "<!-- figures:end -->";
        var (from, to) = (current.IndexOf(start, StringComparison.Ordinal), current.IndexOf(end, StringComparison.Ordinal));
        if (from < 0 || to < from) throw new InvalidOperationException($"{reference} has no {start} ... {end} markers for the figures.");
        File.WriteAllText(reference, current[..(from + start.Length)] + "\n" + text + current[to..]);
        Console.WriteLine($"Written to {reference}");
    }
}
