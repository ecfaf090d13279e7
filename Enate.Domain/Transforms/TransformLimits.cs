using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Enate.Domain.Transforms;

/// How much one step's transforms may do (configuration `Enate:Limits:Transforms`). A step over a limit fails with a
/// reason that names the limit and its setting; the Workers, dry runs and what-ifs use the same limits.
public sealed record TransformLimits
{
    public static readonly TransformLimits Default = new();

    /// Bytes a Liquid template may write.
    public int MaxTemplateOutputBytes { get; init; } = 16 * 1024 * 1024;
    /// Statements a Liquid template may execute (each loop iteration counts).
    public int MaxTemplateSteps { get; init; } = 10_000_000;
    /// Numbers a Liquid range `(a..b)` may hold: Fluid makes the whole list before anything reads it.
    public int MaxRange { get; init; } = 100_000;
    /// Rows, columns, cells and the size of one cell of a CSV or XLSX file read or written.
    public int MaxRows { get; init; } = 100_000;
    public int MaxColumns { get; init; } = 500;
    public int MaxCells { get; init; } = 2_000_000;
    public int MaxCellBytes { get; init; } = 1024 * 1024;
    /// Bytes an XLSX workbook may decompress to.
    public long MaxXlsxBytes { get; init; } = 64 * 1024 * 1024;
    /// Bytes of JSON a JMESPath selection may yield.
    public int MaxSelectionBytes { get; init; } = 16 * 1024 * 1024;
    /// Wall-clock time one step's transforms may take.
    public TimeSpan MaxStepTime { get; init; } = TimeSpan.FromSeconds(10);
}

/// One step's allowance: the limits, and the moment the step began, so its time can be checked as it goes.
public sealed class TransformBudget(TransformLimits limits)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public TransformLimits Limits { get; } = limits;

    public static TransformBudget Default() => new(TransformLimits.Default);

    public void CheckTime(string kind, string expression)
    {
        if (Stopwatch.GetElapsedTime(_started) > Limits.MaxStepTime)
            throw Exceeded(kind, expression, $"the step took longer than {Limits.MaxStepTime.TotalSeconds:0.###} s", nameof(TransformLimits.MaxStepTime));
    }

    /// Fails when the JSON text of a value would be larger than `maxBytes` (measured roughly, stopping once over).
    public static bool IsLarger(JsonNode? node, long maxBytes)
    {
        var size = 0L;
        return !Walk(node);

        bool Walk(JsonNode? current)
        {
            switch (current)
            {
                case null: size += 4; break;
                case JsonObject obj:
                    size += 2;
                    foreach (var (name, value) in obj)
                    {
                        size += name.Length + 4;
                        if (size > maxBytes || !Walk(value)) return false;
                    }
                    break;
                case JsonArray array:
                    size += 2;
                    foreach (var item in array)
                        if (size > maxBytes || !Walk(item)) return false;
                    break;
                default:
                    size += current.GetValueKind() == System.Text.Json.JsonValueKind.String
                        ? JsonScalars.String(current.AsValue()).Length + 2
                        : 24;
                    break;
            }
            return size <= maxBytes;
        }
    }

    public static TransformException Exceeded(string kind, string expression, string detail, string setting) =>
        new(kind, expression, null, null, $"{detail} (limit Enate:Limits:Transforms:{setting})");
}
