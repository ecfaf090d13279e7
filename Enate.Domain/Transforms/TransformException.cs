namespace Enate.Domain.Transforms;

/// A template or expression that failed; the message names the expression and where in it.
public sealed class TransformException(string kind, string expression, int? line, int? column, string detail)
    : Exception(Describe(kind, expression, line, column, detail))
{
    public string Kind { get; } = kind;
    public string Expression { get; } = expression;
    public int? Line { get; } = line;
    public int? Column { get; } = column;
    public string Detail { get; } = detail;

    private static string Describe(string kind, string expression, int? line, int? column, string detail)
    {
        var shown = expression.Length > 120 ? expression[..117] + "..." : expression;
        var where = (line, column) switch
        {
            ({ } l, { } c) => $" at line {l}, position {c}",
            (null, { } c) => $" at position {c}",
            _ => "",
        };
        return $"{kind} '{shown}'{where}: {detail}";
    }
}
