using System.Text.Json.Nodes;
using Enate.Domain.Recipes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Engine;

/// Turns a step definition and the run context into a plan. Template errors and exceeded limits surface as
/// TransformException; any other exception is a defect the engine records as the step's failure.
public static class StepInterpreter
{
    public static StepPlan Plan(StepDefinition step, JsonObject context, TransformBudget budget) => step.Type switch
    {
        StepTypes.Http => PlanHttp(step, context, budget),
        StepTypes.Enate => EnateOperations.Plan(step, context, budget),
        StepTypes.Transform => new OutputPlan(Transform(step, context, budget)),
        StepTypes.Filter => Expressions.IsTruthy(Expressions.Evaluate(step.Condition!, context, budget))
            ? new OutputPlan(new JsonObject { ["passed"] = true })
            : new SkipPlan($"Filter '{step.Id}' was false: {step.Condition}"),
        _ => throw new Runs.RunCannotGoOn($"Step type '{step.Type}' has no interpreter."),
    };

    private static CallPlan PlanHttp(StepDefinition step, JsonObject context, TransformBudget budget)
    {
        var headers = (step.Headers ?? new Dictionary<string, string>())
            .ToDictionary(h => h.Key, h => Templates.Render(h.Value, context, budget), StringComparer.OrdinalIgnoreCase);
        var body = step.Body is null ? null : Templates.RenderJson(step.Body.Node, context, budget)?.ToJsonString();
        return new CallPlan(step.Connection!, (step.Method ?? "GET").ToUpperInvariant(), Templates.RenderPath(step.Path ?? "", context, budget).Trim(),
            headers, body, body is null ? null : "application/json");
    }

    private static JsonNode? Transform(StepDefinition step, JsonObject context, TransformBudget budget)
    {
        JsonNode? data = context;
        if (step.Select is not null) data = Expressions.Evaluate(step.Select, context, budget);
        if (step.From is not null) data = Read(step.From, data, budget);
        if (step.Template is not null)
        {
            // The template sees the whole context, plus the selected/parsed data as `data`.
            var model = (JsonObject)context.DeepClone();
            model["data"] = data?.DeepClone();
            data = Templates.RenderJson(step.Template.Node, model, budget);
        }
        return step.To is null ? data : Write(step.To, data, budget);
    }

    private static JsonNode Read(string format, JsonNode? value, TransformBudget budget)
    {
        var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
        return format switch
        {
            DataFormats.Csv => Formats.ReadCsv(text, budget: budget),
            DataFormats.Xlsx => Formats.ReadXlsx(FromBase64(text), budget: budget),
            _ => JsonNode.Parse(text) ?? new JsonObject(),
        };
    }

    private static byte[] FromBase64(string text)
    {
        var bytes = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(text, bytes, out var written)
            ? bytes[..written]
            : throw new TransformException("xlsx", "(input)", null, null, "the value is not base64: an XLSX file travels as base64 text");
    }

    private static JsonNode? Write(string format, JsonNode? value, TransformBudget budget) => format switch
    {
        DataFormats.Csv => JsonValue.Create(Formats.WriteCsv(value as JsonArray ?? [], budget: budget)),
        DataFormats.Xlsx => JsonValue.Create(Convert.ToBase64String(Formats.WriteXlsx(value as JsonArray ?? [], budget: budget))),
        _ => value,
    };
}

public static class StepTypes
{
    public const string Http = "http";
    public const string Transform = "transform";
    public const string Filter = "filter";
    public const string Enate = "enate";
    public static readonly string[] All = [Http, Transform, Filter, Enate];
}

public static class DataFormats
{
    public const string Json = "json";
    public const string Csv = "csv";
    public const string Xlsx = "xlsx";
    public static readonly string[] All = [Json, Csv, Xlsx];
}
