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
    public static string Render(string template, JsonNode? model, TransformBudget? budget = null) =>
        Render(template, model, budget ?? TransformBudget.Default(), NullEncoder.Default);

    /// Renders a request path: every value is percent-encoded as one path segment or query value, so data cannot change
    /// where a call goes. `{{ value | raw }}` writes a value as it is, for a recipe that means to (the validator lists them).
    public static string RenderPath(string template, JsonNode? model, TransformBudget? budget = null) =>
        Render(template, model, budget ?? TransformBudget.Default(), PathValueEncoder.Instance);

    private static string Render(string template, JsonNode? model, TransformBudget budget, TextEncoder encoder)
    {
        var parsed = Cache.GetOrAdd(template, Parse);
        var context = new TemplateContext(Options) { MaxSteps = budget.Limits.MaxTemplateSteps };
        context.AmbientValues[BoundedRange.Limit] = budget.Limits.MaxRange;
        if (model is JsonObject variables)
            foreach (var (name, value) in variables) context.SetValue(name, FluidJson.ToFluid(value));
        else
            context.SetValue("model", FluidJson.ToFluid(model));

        using var output = new BoundedWriter(budget, template);
        try
        {
            // Bodies are JSON or plain text, never HTML, so nothing is HTML-encoded.
            var rendering = parsed.RenderAsync(output, encoder, context);
            // Rendering JSON data completes synchronously; nothing here awaits I/O.
            if (!rendering.IsCompletedSuccessfully) rendering.AsTask().GetAwaiter().GetResult();
            return output.ToString();
        }
        catch (TransformException)
        {
            throw;
        }
        catch (BoundedRange.TooLarge e)
        {
            throw TransformBudget.Exceeded("liquid", template, $"a range holds {e.Count:N0} numbers, more than {budget.Limits.MaxRange:N0}",
                nameof(TransformLimits.MaxRange));
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("The maximum level of recursion", StringComparison.Ordinal))
        {
            // Fluid reports too many steps with its recursion message, which would send a recipe author looking for includes.
            throw TransformBudget.Exceeded("liquid", template,
                $"the template did more than {budget.Limits.MaxTemplateSteps:N0} steps or nested too deep; check its loops",
                nameof(TransformLimits.MaxTemplateSteps));
        }
        catch (Exception e)
        {
            throw new TransformException("liquid", template, null, null, e.Message, e);
        }
    }

    /// JSON from a template as a recipe writes it: a string is a Liquid template rendering JSON; JSON written out keeps its
    /// shape, each string value rendered as a Liquid template and each `{"$select": "<JMESPath>"}` replaced by the value
    /// it selects. Both forms of the same JSON render the same bytes.
    public static JsonNode? RenderJson(JsonNode template, JsonNode? model, TransformBudget? budget = null) =>
        template is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? RenderJson(v.GetValue<string>(), model, budget)
            : Resolve(template, model, budget);

    /// A string value rendered as Liquid text, `{"$select": …}` as the JSON value it selects; everything else as written.
    public static JsonNode? Resolve(JsonNode? value, JsonNode? model, TransformBudget? budget = null) => value switch
    {
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => Render(v.GetValue<string>(), model, budget),
        JsonObject o when o.Count == 1 && o["$select"] is JsonValue select => Expressions.Evaluate(select.GetValue<string>(), model, budget)?.DeepClone(),
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Resolve(p.Value, model, budget)))),
        JsonArray a => new JsonArray(a.Select(item => Resolve(item, model, budget)).ToArray()),
        _ => value?.DeepClone(),
    };

    /// Renders, then reads the output as JSON.
    public static JsonNode? RenderJson(string template, JsonNode? model, TransformBudget? budget = null)
    {
        var output = Render(template, model, budget);
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
        if (Nesting.TemplateProblem(template) is { } tooDeep) throw new TransformException("liquid", template, null, null, tooDeep);
        var context = new FluidParseContext(template);
        var (parsed, statements, error) = Nesting.OnLargeStack(() =>
        {
            var ok = Parser.Grammar.TryParse(context, out var parsedStatements, out var parseError);
            return (ok, parsedStatements, parseError);
        });
        if (error is not null)
            throw new TransformException("liquid", template, error.Position.Line, error.Position.Column,
                $"{error.Message} near '{SourceLine(template, error.Position.Line)}'");
        if (!parsed)
            throw new TransformException("liquid", template, null, null, "the template could not be parsed");
        return new FluidTemplate(statements.Select(BoundedRange.Rewriter.Visit).ToList());
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
            // A recipe's loop must not be able to hold a worker forever (each render sets its own budget's count).
            MaxSteps = TransformLimits.Default.MaxTemplateSteps,
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

/// Collects a template's output up to the step's byte limit, and checks its time as it goes.
internal sealed class BoundedWriter(TransformBudget budget, string template) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
{
    private int _writes;

    public override void Write(char value)
    {
        Check(1);
        base.Write(value);
    }

    public override void Write(string? value)
    {
        Check(value?.Length ?? 0);
        base.Write(value);
    }

    public override void Write(char[] buffer, int index, int count)
    {
        Check(count);
        base.Write(buffer, index, count);
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        Check(buffer.Length);
        base.Write(buffer);
    }

    private void Check(int adding)
    {
        // Characters, not bytes: within a factor of the UTF-8 size, and free to count.
        if (GetStringBuilder().Length + adding > budget.Limits.MaxTemplateOutputBytes)
            throw TransformBudget.Exceeded("liquid", template,
                $"the template wrote more than {budget.Limits.MaxTemplateOutputBytes:N0} characters", nameof(TransformLimits.MaxTemplateOutputBytes));
        if (++_writes % 1024 == 0) budget.CheckTime("liquid", template);
    }
}

/// Percent-encodes each value written into a path as one segment or query value (RFC 3986 unreserved characters stay).
/// A value of "." or ".." cannot be encoded safely, since servers decode %2E and then resolve dot segments: it is refused.
internal sealed class PathValueEncoder : TextEncoder
{
    public static readonly PathValueEncoder Instance = new();
    private static readonly TextEncoder Url = UrlEncoder.Default;

    public override int MaxOutputCharactersPerInputCharacter => Url.MaxOutputCharactersPerInputCharacter;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) => Url.FindFirstCharacterToEncode(text, textLength);

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten) =>
        Url.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);

    public override bool WillEncode(int unicodeScalar) => Url.WillEncode(unicodeScalar);

    public override string Encode(string value) => Url.Encode(Checked(value));

    public override void Encode(TextWriter output, string value, int startIndex, int characterCount) =>
        Url.Encode(output, Checked(value.Substring(startIndex, characterCount)), 0, characterCount);

    private static string Checked(string value) => value is "." or ".."
        ? throw new TransformException("liquid", value, null, null,
            $"a value rendered into a path is '{value}', which would move the call to another path")
        : value;
}
