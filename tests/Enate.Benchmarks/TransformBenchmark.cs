using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Benchmarks;

/// A 1,000-row CSV parsed to JSON and rendered through a Liquid template, against a baseline of
/// System.Text.Json serializing the same rows (the least any JSON-producing transform must do).
public static class TransformBenchmark
{
    private const string Template = """
        { "employees": [ {% for row in data %}{"id": "{{ row.id }}", "name": "{{ row.first }} {{ row.last }}", "gross": {{ row.gross }} }{% unless forloop.last %},{% endunless %}{% endfor %} ] }
        """;

    public static IEnumerable<Result> Run(bool smoke)
    {
        var csv = new StringBuilder("id,first,last,gross\n");
        for (var i = 0; i < 1000; i++) csv.Append($"{i},First{i},\"Last, {i}\",{1000 + i}.50\n");
        var text = csv.ToString();
        var iterations = smoke ? 3 : 200;

        Pipeline(text);
        var pipeline = Time(iterations, () => Pipeline(text));

        var rows = Formats.ReadCsv(text);
        var baseline = Time(iterations, () => JsonSerializer.Serialize(rows));

        var rowsPerSecond = 1000 / pipeline.TotalSeconds;
        var baselinePerSecond = 1000 / baseline.TotalSeconds;
        yield return new Result("transform: 1,000-row CSV → JSON → Liquid", $"{rowsPerSecond:N0} rows/s ({pipeline.TotalMilliseconds:0.0} ms per file)",
            $"STJ serialize: {baselinePerSecond:N0} rows/s", rowsPerSecond / baselinePerSecond, $"{iterations} files");
    }

    private static JsonNode? Pipeline(string csv)
    {
        var model = new JsonObject { ["data"] = Formats.ReadCsv(csv) };
        return Templates.RenderJson(Template, model);
    }

    private static TimeSpan Time(int iterations, Action action)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++) action();
        return watch.Elapsed / iterations;
    }
}
