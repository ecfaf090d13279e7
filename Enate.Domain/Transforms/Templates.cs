using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Parser;
using Fluid.Values;

namespace Enate.Domain.Transforms;

/// Liquid templates (Fluid) that build request bodies, headers and texts from run data.
public static class Templates
{
    private static readonly FluidParser Parser = new();
    private static readonly ParsedCache<IFluidTemplate> Cache = new(10_000);

    // Shared by every render so filters are registered once; internal so nothing changes it while renders run.
    internal static TemplateOptions Options { get; } = CreateOptions();

    /// Null when the template parses, else a message with line and column.
    public static string? Validate(string template)
    {
        try
        {
            Cache.GetOrAdd(template, Parse);
            return null;
        }
        catch (TransformException e)
        {
            return e.Message;
        }
    }

    /// The model's top-level properties become the template's variables.
    public static string Render(string template, JsonNode? model)
    {
        var parsed = Cache.GetOrAdd(template, Parse);
        var context = new TemplateContext(Options);
        if (model is JsonObject variables)
            foreach (var (name, value) in variables) context.SetValue(name, FluidJson.ToFluid(value));
        else
            context.SetValue("model", FluidJson.ToFluid(model));

        try
        {
            // Bodies are JSON or plain text, never HTML, so nothing is HTML-encoded.
            return parsed.Render(context, NullEncoder.Default);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("The maximum level of recursion", StringComparison.Ordinal))
        {
            // Fluid reports too many steps with its recursion message, which would send a recipe author looking for includes.
            throw new TransformException("liquid", template, null, null,
                $"the template did more than {Options.MaxSteps:N0} steps or nested too deep; check its loops", e);
        }
        catch (Exception e)
        {
            throw new TransformException("liquid", template, null, null, e.Message, e);
        }
    }

    /// Renders, then reads the output as JSON.
    public static JsonNode? RenderJson(string template, JsonNode? model)
    {
        var output = Render(template, model);
        try
        {
            return JsonNode.Parse(output);
        }
        catch (JsonException e)
        {
            var line = e.LineNumber is { } l ? (int)l + 1 : (int?)null;
            var column = e.BytePositionInLine is { } c ? (int)c + 1 : (int?)null;
            // System.Text.Json appends its own 0-based "LineNumber: .. | BytePositionInLine: .." to the message.
            var detail = e.Message.Split(" LineNumber:")[0];
            throw new TransformException("json", output, line, column, $"{detail} (the template's output is not JSON)", e);
        }
    }

    private static IFluidTemplate Parse(string template)
    {
        var context = new FluidParseContext(template);
        var parsed = Parser.Grammar.TryParse(context, out var statements, out var error);
        if (error is not null)
            throw new TransformException("liquid", template, error.Position.Line, error.Position.Column,
                $"{error.Message} near '{SourceLine(template, error.Position.Line)}'");
        if (!parsed)
            throw new TransformException("liquid", template, null, null, "the template could not be parsed");
        return new FluidTemplate(statements);
    }

    private static string SourceLine(string template, int line)
    {
        var lines = template.Split('\n');
        return line >= 1 && line <= lines.Length ? lines[line - 1].Trim() : "";
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            CultureInfo = System.Globalization.CultureInfo.InvariantCulture,
            // A recipe's loop must not be able to hold a worker forever.
            MaxSteps = 10_000_000,
            // Fluid's own json filter uses these; JSON bodies need no HTML-safe escaping of <, >, & or quotes.
            JsonSerializerOptions = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping },
        };
        options.ValueConverters.Add(value => value is JsonNode node ? FluidJson.ToFluid(node) : null);
        options.Filters.AddFilter("jmespath", JmesPathFilter);
        return options;
    }

    // {{ steps.getDeal.body | jmespath: "lines[?qty > `0`].sku" | json }}: selections inside a template use JMESPath too.
    private static ValueTask<FluidValue> JmesPathFilter(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var expression = arguments.At(0).ToStringValue();
        var result = Expressions.Evaluate(expression, FluidJson.ToJson(input, context));
        return FluidJson.ToFluid(result);
    }
}
