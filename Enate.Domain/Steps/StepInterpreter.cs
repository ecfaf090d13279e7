using System.Text.Json.Nodes;
using Enate.Domain.Recipes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Steps;

/// Turns a step definition and the run context into a plan. Template errors surface as TransformException.
public static class StepInterpreter
{
    public static StepPlan Plan(StepDefinition step, JsonObject context) => step.Type switch
    {
        StepTypes.Http => PlanHttp(step, context),
        StepTypes.Enate => EnateOperations.Plan(step, context),
        StepTypes.Transform => new OutputPlan(Transform(step, context), IsTransform: true),
        StepTypes.Filter => Expressions.IsTruthy(Expressions.Evaluate(step.Condition!, context))
            ? new OutputPlan(new JsonObject { ["passed"] = true }, IsTransform: false)
            : new SkipPlan($"Filter '{step.Id}' was false: {step.Condition}"),
        _ => throw new InvalidOperationException($"Step type '{step.Type}' has no interpreter."),
    };

    private static CallPlan PlanHttp(StepDefinition step, JsonObject context)
    {
        var headers = (step.Headers ?? new Dictionary<string, string>())
            .ToDictionary(h => h.Key, h => Templates.Render(h.Value, context), StringComparer.OrdinalIgnoreCase);
        var body = step.Body is null ? null : Templates.RenderJson(step.Body, context)?.ToJsonString();
        return new CallPlan(step.Connection!, (step.Method ?? "GET").ToUpperInvariant(), Templates.Render(step.Path ?? "", context).Trim(),
            headers, body, body is null ? null : "application/json");
    }

    private static JsonNode? Transform(StepDefinition step, JsonObject context)
    {
        JsonNode? data = context;
        if (step.Select is not null) data = Expressions.Evaluate(step.Select, context);
        if (step.From is not null) data = Read(step.From, data);
        if (step.Template is not null)
        {
            // The template sees the whole context, plus the selected/parsed data as `data`.
            var model = (JsonObject)context.DeepClone();
            model["data"] = data?.DeepClone();
            data = Templates.RenderJson(step.Template, model);
        }
        return step.To is null ? data : Write(step.To, data);
    }

    private static JsonNode Read(string format, JsonNode? value)
    {
        var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? "";
        return format switch
        {
            DataFormats.Csv => Formats.ReadCsv(text),
            DataFormats.Xlsx => Formats.ReadXlsx(Convert.FromBase64String(text)),
            _ => JsonNode.Parse(text) ?? new JsonObject(),
        };
    }

    private static JsonNode? Write(string format, JsonNode? value) => format switch
    {
        DataFormats.Csv => JsonValue.Create(Formats.WriteCsv(value as JsonArray ?? [])),
        DataFormats.Xlsx => JsonValue.Create(Convert.ToBase64String(Formats.WriteXlsx(value as JsonArray ?? []))),
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
