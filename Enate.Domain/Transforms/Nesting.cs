using System.Runtime.ExceptionServices;
using System.Text.RegularExpressions;

namespace Enate.Domain.Transforms;

/// Fluid's and JmesPath.Net's parsers and evaluators recurse once per level of nesting: a few thousand levels overflow
/// the thread's stack, which ends the whole process (the API, or the Workers on every retry of the run), not the
/// request. So a template or an expression is measured before it is parsed — how deep its blocks and brackets nest,
/// how many filters one tag chains, how many operators an expression chains — and refused past limits no recipe comes
/// near; and it is parsed on a thread whose stack holds any parse within them.
internal static partial class Nesting
{
    public const int MaxDepth = 64;
    public const int MaxFilters = 64;
    public const int MaxExpressionLength = 4_096;
    public const int MaxOperators = 512;

    private const int ParseStackBytes = 64 * 1024 * 1024;

    private static readonly HashSet<string> Blocks = ["if", "unless", "for", "case", "capture", "comment", "raw", "tablerow", "ifchanged"];

    /// Why the template nests too deep for the parser and the renderer, or null.
    public static string? TemplateProblem(string template)
    {
        var depth = 0;
        foreach (Match tag in Tag().Matches(template))
        {
            var body = tag.Groups["body"].Value;
            var isStatement = tag.Value.StartsWith("{%", StringComparison.Ordinal);
            // `{% liquid %}` holds one statement a line.
            var statements = isStatement && FirstWord(body) == "liquid" ? body.Split('\n').Skip(1) : [body];
            foreach (var statement in statements)
            {
                if (isStatement)
                {
                    var word = FirstWord(statement);
                    if (word.StartsWith("end", StringComparison.Ordinal)) depth = Math.Max(0, depth - 1);
                    else if (Blocks.Contains(word) && ++depth > MaxDepth) return $"blocks nest deeper than {MaxDepth} levels";
                }
                if (statement.Count(c => c == '|') > MaxFilters) return $"a tag chains more than {MaxFilters} filters";
                if (BracketDepth(statement) > MaxDepth) return $"brackets nest deeper than {MaxDepth} levels";
            }
        }
        return null;
    }

    /// Why the expression is too long or nests too deep for the parser and the evaluator, or null.
    public static string? ExpressionProblem(string expression)
    {
        if (expression.Length > MaxExpressionLength) return $"the expression is longer than {MaxExpressionLength:N0} characters";
        if (BracketDepth(expression) > MaxDepth) return $"brackets nest deeper than {MaxDepth} levels";
        if (expression.Count(c => c is '.' or '|' or '&' or '=' or '<' or '>' or '!' or '[') > MaxOperators)
            return $"the expression chains more than {MaxOperators} operators";
        return null;
    }

    /// Runs the parse on a thread of its own with a stack large enough for any input within the limits above.
    public static T OnLargeStack<T>(Func<T> parse)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = parse();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        }, ParseStackBytes) { IsBackground = true, Name = "parse" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    private static string FirstWord(string statement)
    {
        var text = statement.AsSpan().TrimStart();
        var end = 0;
        while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_')) end++;
        return text[..end].ToString();
    }

    /// How deep ( [ { nest, outside quoted text.
    private static int BracketDepth(string text)
    {
        int depth = 0, deepest = 0;
        char quote = '\0';
        foreach (var c in text)
        {
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                continue;
            }
            switch (c)
            {
                case '\'' or '"' or '`':
                    quote = c;
                    break;
                case '(' or '[' or '{':
                    deepest = Math.Max(deepest, ++depth);
                    break;
                case ')' or ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
            }
        }
        return deepest;
    }

    // Linear in the template's length however many tags are left open.
    [GeneratedRegex(@"\{%-?(?<body>.*?)-?%\}|\{\{-?(?<body>.*?)-?\}\}", RegexOptions.Singleline | RegexOptions.NonBacktracking)]
    private static partial Regex Tag();
}
