using Enate.Benchmarks;

// Measures side by side in one run, so every figure is a ratio to a baseline taken on the same noisy machine.
// Usage: dotnet run -c Release --project tests/Enate.Benchmarks [-- --smoke]
if (args.Contains(BaselineEndpoint.Argument))
{
    await BaselineEndpoint.RunAsync(args);
    return;
}
var smoke = args.Contains("--smoke");
var results = new List<Result>();
// `--only ingest` (or transform, engine, audit, latency, e2e, replicas, rebuild, replay, proof, schedule) runs one group, for working on it; the written report needs them all.
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
if (only is null or "transform") results.AddRange(TransformBenchmark.Run(smoke));
if (only is null or "engine") results.AddRange(await EngineBenchmark.RunAsync(smoke));
if (only is null or "ingest") results.AddRange(await IngestBenchmark.RunAsync(smoke));
// Not part of a full run: the ingest latency phase alone, three times, for working on its tail.
if (only is "latency") results.AddRange(await IngestBenchmark.LatencyAsync(smoke));
if (only is "e2e") results.AddRange(await IngestBenchmark.EndToEndOnlyAsync(smoke));
if (only is null or "replicas") results.AddRange(await IngestBenchmark.ReplicasAsync(smoke));
if (only is "rebuild") results.AddRange(await AuditBenchmark.RebuildOnlyAsync(smoke));
if (only is "replay") results.AddRange(await AuditBenchmark.ReplayOnlyAsync(smoke));
if (only is "proof") results.AddRange(await AuditBenchmark.ProofOnlyAsync(smoke));
// Not part of a full run: an hour of schedules (`--minutes N` for less); smoke mode runs it for seconds.
if (only is "schedule" || (smoke && only is null))
    results.AddRange(await ScheduleBenchmark.RunAsync(smoke,
        TimeSpan.FromMinutes(double.Parse(args.SkipWhile(a => a != "--minutes").Skip(1).FirstOrDefault() ?? "60", System.Globalization.CultureInfo.InvariantCulture))));
if (only is null or "audit") results.AddRange(await AuditBenchmark.RunAsync(smoke));
Report.Print(results, smoke, only);
