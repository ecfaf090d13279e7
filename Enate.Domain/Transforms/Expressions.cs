using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DevLab.JmesPath;
using DevLab.JmesPath.Expressions;
using Newtonsoft.Json.Linq;

namespace Enate.Domain.Transforms;

/// JMESPath selections and conditions (JmesPath.Net), parsed once per text.
public static partial class Expressions
{
    private const int CacheLimit = 10_000;
    private static readonly JmesPath Parser = new();
    private static readonly ConcurrentDictionary<string, JmesPathExpression> Cache = new();

    /// Null when the expression parses, else a message with the position of the problem.
    public static string? Validate(string expression)
    {
        try
        {
            Parse(expression);
            return null;
        }
        catch (TransformException ex)
        {
            return ex.Message;
        }
    }

    public static JsonNode? Evaluate(string expression, JsonNode? data)
    {
        var parsed = Parse(expression);
        try
        {
            var input = data is null ? JValue.CreateNull() : JToken.Parse(data.ToJsonString());
            var result = parsed.Transform(input).Token;
            return result is null || result.Type == JTokenType.Null ? null : JsonNode.Parse(result.ToString(Newtonsoft.Json.Formatting.None));
        }
        catch (Exception ex) when (ex is not TransformException)
        {
            throw new TransformException("jmespath", expression, null, null, ex.Message);
        }
    }

    /// JMESPath truthiness: false, null, "", [] and {} are false; everything else is true.
    public static bool IsTruthy(JsonNode? value) => value switch
    {
        null => false,
        JsonArray a => a.Count > 0,
        JsonObject o => o.Count > 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.False or JsonValueKind.Null => false,
            JsonValueKind.String => v.GetValue<string>().Length > 0,
            _ => true,
        },
        _ => true,
    };

    private static JmesPathExpression Parse(string expression)
    {
        if (Cache.TryGetValue(expression, out var cached)) return cached;
        JmesPathExpression parsed;
        try
        {
            parsed = Parser.Parse(expression);
        }
        catch (Exception ex)
        {
            var position = Position().Match(ex.Message);
            throw position.Success
                ? new TransformException("jmespath", expression, null, int.Parse(position.Groups[2].Value), "syntax error")
                : new TransformException("jmespath", expression, null, null, ex.Message);
        }
        if (Cache.Count < CacheLimit) Cache[expression] = parsed;
        return parsed;
    }

    [GeneratedRegex(@"Error\((\d+), (\d+)\)")]
    private static partial Regex Position();
}
