using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DevLab.JmesPath;
using DevLab.JmesPath.Expressions;

namespace Enate.Domain.Transforms;

/// JMESPath selections and conditions over run data.
public static partial class Expressions
{
    private static readonly JmesPath Parser = new();
    private static readonly ParsedCache<ExpressionPool> Cache = new(10_000);

    /// Null when the expression parses, else a message that names the position.
    public static string? Validate(string expression)
    {
        try
        {
            Cache.GetOrAdd(expression, Parse);
            return null;
        }
        catch (TransformException e)
        {
            return e.Message;
        }
    }

    public static JsonNode? Evaluate(string expression, JsonNode? data, TransformBudget? budget = null)
    {
        var pool = Cache.GetOrAdd(expression, Parse);
        var ast = pool.Rent();
        try
        {
            var result = NewtonsoftBridge.ToJsonNode(ast.Transform(NewtonsoftBridge.ToJToken(data)).AsJToken());
            var limits = budget?.Limits ?? TransformLimits.Default;
            if (result is JsonObject or JsonArray && TransformBudget.IsLarger(result, limits.MaxSelectionBytes))
                throw TransformBudget.Exceeded("jmespath", expression, $"the selection is larger than {limits.MaxSelectionBytes:N0} bytes",
                    nameof(TransformLimits.MaxSelectionBytes));
            budget?.CheckTime("jmespath", expression);
            return result;
        }
        catch (Exception e) when (e is not TransformException)
        {
            throw Failure(expression, e);
        }
        finally
        {
            pool.Return(ast);
        }
    }

    /// JMESPath truthiness: false, null, "", [] and {} are false; everything else, 0 included, is true.
    public static bool IsTruthy(JsonNode? value) => value switch
    {
        null => false,
        JsonObject obj => obj.Count > 0,
        JsonArray array => array.Count > 0,
        _ => value.GetValueKind() switch
        {
            JsonValueKind.Null or JsonValueKind.False or JsonValueKind.Undefined => false,
            JsonValueKind.String => JsonScalars.String(value.AsValue()).Length > 0,
            _ => true,
        },
    };

    private static ExpressionPool Parse(string expression)
    {
        var first = ParseOne(expression);
        return new ExpressionPool(first, () => ParseOne(expression));
    }

    private static JmesPathExpression ParseOne(string expression)
    {
        try
        {
            if (Nesting.ExpressionProblem(expression) is { } tooDeep) throw new TransformException("jmespath", expression, null, null, tooDeep);
            return Nesting.OnLargeStack(() => Parser.Parse(expression));
        }
        catch (Exception e) when (e is not TransformException)
        {
            throw Failure(expression, e);
        }
    }

    // JmesPath.Net reports "Error(line, column): ..." with the column 0-based at the last character it read.
    private static TransformException Failure(string expression, Exception error)
    {
        var match = ErrorPosition().Match(error.Message);
        if (!match.Success)
            return new TransformException("jmespath", expression, null, null, Clean(error.Message), error);

        var line = int.Parse(match.Groups["line"].Value);
        var column = int.Parse(match.Groups["column"].Value) + 1;
        var detail = Clean(error.Message[match.Length..]);
        return new TransformException("jmespath", expression, line, column, detail, error);
    }

    private static string Clean(string message) => message.TrimStart(':', ' ').Replace("Error: ", "");

    [GeneratedRegex(@"^Error\((?<line>\d+), (?<column>\d+)\)")]
    private static partial Regex ErrorPosition();

    // A parsed JmesPath.Net tree keeps the root and let-scopes of the evaluation in progress, so one tree serves one caller at a time.
    private sealed class ExpressionPool(JmesPathExpression first, Func<JmesPathExpression> parse)
    {
        private readonly ConcurrentBag<JmesPathExpression> idle = [first];

        public JmesPathExpression Rent() => idle.TryTake(out var ast) ? ast : parse();

        public void Return(JmesPathExpression ast) => idle.Add(ast);
    }
}
