using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Enate.Api.Recipes;

/// A recipe written as YAML (`Content-Type: application/yaml`) is read into the JSON it stands for, then saved as a
/// JSON recipe is: the same validation, the same JSON paths in problems, the same definition and hash. Plain scalars
/// follow YAML 1.2's core schema (null, true/false, numbers); quoted and block scalars are strings.
public static partial class RecipeYaml
{
    public static readonly string[] MediaTypes = ["application/yaml", "application/x-yaml", "text/yaml"];

    // Aliases can make a small document stand for an enormous one: converting stops well before that.
    private const int MaxNodes = 100_000;

    // As deep as a JSON recipe may nest (the JSON reader's and writer's limit); an alias inside itself never ends.
    private const int MaxDepth = 64;

    public static bool IsYaml(string? contentType) =>
        contentType is not null && MediaTypes.Any(t => contentType.StartsWith(t, StringComparison.OrdinalIgnoreCase));

    /// The JSON the YAML text stands for, or why it stands for none.
    public static (JsonNode? Json, string? Problem) Read(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count != 1) return (null, $"The body holds {stream.Documents.Count} YAML documents; send one recipe.");
            var count = 0;
            return (Convert(stream.Documents[0].RootNode, ref count, 0), null);
        }
        catch (YamlException e)
        {
            return (null, $"The YAML does not parse at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        catch (TooLarge)
        {
            return (null, $"The YAML stands for more than {MaxNodes} values (aliases expanded).");
        }
        catch (TooDeep)
        {
            return (null, $"The YAML nests deeper than {MaxDepth} levels (aliases expanded; an alias inside what it names never ends).");
        }
        catch (ArgumentException e)
        {
            // A mapping that names a key twice.
            return (null, $"The YAML is not a recipe: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // The YAML reader fails this way on some malformed input instead of naming the place.
            return (null, "The YAML does not parse.");
        }
    }

    private static JsonNode? Convert(YamlNode node, ref int count, int depth)
    {
        if (++count > MaxNodes) throw new TooLarge();
        if (depth > MaxDepth) throw new TooDeep();
        switch (node)
        {
            case YamlMappingNode mapping:
                var json = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                        throw new YamlException(key.Start, key.End, "A key must be a plain text.");
                    json.Add(name, Convert(value, ref count, depth + 1));
                }
                return json;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children) array.Add(Convert(item, ref count, depth + 1));
                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, "An unsupported YAML node.");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Integer().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return JsonValue.Create(integer);
        if (Real().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            return double.IsFinite(real) ? JsonValue.Create(real) : throw new YamlException(scalar.Start, scalar.End, $"The number {value} is out of range.");
        return JsonValue.Create(value);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Real();

    private sealed class TooLarge : Exception;

    private sealed class TooDeep : Exception;
}
