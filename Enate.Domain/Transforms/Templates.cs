using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fluid;

namespace Enate.Domain.Transforms;

/// Liquid templates (Fluid), parsed once per text; output is text or JSON, never HTML-encoded.
public static partial class Templates
{
    private const int CacheLimit = 10_000;
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = new()
    {
        MemberAccessStrategy = new UnsafeMemberAccessStrategy(),
        MaxSteps = 1_000_000,
        MaxRecursion = 50,
    };
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new();

    /// Null when the template parses, else a message with line and position.
    public static string? Validate(string template)
    {
        try
        {
            Parse(template);
            return null;
        }
        catch (TransformException ex)
        {
            return ex.Message;
        }
    }

    public static string Render(string template, JsonNode? model)
    {
        var parsed = Parse(template);
        var context = new TemplateContext(Options);
        if (model is JsonObject obj)
        {
            foreach (var (name, value) in obj) context.SetValue(name, FluidModel.From(value));
        }
        try
        {
            return parsed.Render(context, NullEncoder.Default);
        }
        catch (Exception ex)
        {
            throw new TransformException("liquid", template, null, null, ex.Message);
        }
    }

    public static JsonNode? RenderJson(string template, JsonNode? model)
    {
        var text = Render(template, model);
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new TransformException("liquid", template, (int?)ex.LineNumber + 1, (int?)ex.BytePositionInLine + 1,
                $"the rendered text is not JSON ({ex.Message.Split(" LineNumber")[0]}): {Excerpt(text, ex)}");
        }
    }

    private static string Excerpt(string text, JsonException ex)
    {
        var lines = text.Split('\n');
        var line = (int)(ex.LineNumber ?? 0);
        var at = line < lines.Length ? lines[line] : text;
        return at.Length > 200 ? at[..200] + "..." : at;
    }

    private static IFluidTemplate Parse(string template)
    {
        if (Cache.TryGetValue(template, out var cached)) return cached;
        if (!Parser.TryParse(template, out var parsed, out var error))
        {
            var position = Position().Match(error);
            var detail = error.Split("\nSource:")[0].Trim();
            throw position.Success
                ? new TransformException("liquid", template, int.Parse(position.Groups[1].Value), int.Parse(position.Groups[2].Value), detail)
                : new TransformException("liquid", template, null, null, detail);
        }
        if (Cache.Count < CacheLimit) Cache[template] = parsed;
        return parsed;
    }

    [GeneratedRegex(@"\((\d+):(\d+)\)")]
    private static partial Regex Position();
}

/// Plain .NET values Fluid navigates natively: dictionaries, lists, numbers, strings.
internal static class FluidModel
{
    public static object? From(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => From(p.Value)),
        JsonArray a => a.Select(From).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // The JSON text is the one representation every numeric JsonValue has.
            JsonValueKind.Number => decimal.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : double.Parse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };
}
