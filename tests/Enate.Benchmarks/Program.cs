using Enate.Benchmarks;

// Measures side by side in one run, so every figure is a ratio to a baseline taken on the same noisy machine.
// Usage: dotnet run -c Release --project tests/Enate.Benchmarks [-- --smoke]
var smoke = args.Contains("--smoke");
var results = new List<Result>();
results.AddRange(TransformBenchmark.Run(smoke));
results.AddRange(await EngineBenchmark.RunAsync(smoke));
results.AddRange(await IngestBenchmark.RunAsync(smoke));
Report.Print(results, smoke);
