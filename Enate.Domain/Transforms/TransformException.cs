namespace Enate.Domain.Transforms;

/// A template, expression or data format failed at run time; says which one and where.
public sealed class TransformException : Exception
{
    public TransformException(string kind, string expression, int? line, int? column, string detail)
        : base(Describe(kind, expression, line, column, detail))
    {
        Kind = kind;
        Expression = expression;
        Line = line;
        Column = column;
        Detail = detail;
    }

    public TransformException(string kind, string expression, int? line, int? column, string detail, Exception inner)
        : base(Describe(kind, expression, line, column, detail), inner)
    {
        Kind = kind;
        Expression = expression;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// "liquid" | "jmespath" | "csv" | "xlsx" | "json"
    public string Kind { get; }
    public string Expression { get; }
    public int? Line { get; }
    public int? Column { get; }
    public string Detail { get; }

    private const int Quoted = 200;

    private static string Start(string expression) => expression.Length <= Quoted ? expression : expression[..Quoted] + "…";

    private static string Describe(string kind, string expression, int? line, int? column, string detail) => kind switch
    {
        // JMESPath expressions are one short line, so the text itself is the best name for them; a long one is named by
        // its start (a refused 40,000-character expression is not quoted back whole into every answer and record).
        "jmespath" => $"jmespath expression '{Start(expression)}'{Where(line, column, asPosition: line is null or 1)}: {detail}",
        "liquid" => $"liquid template{Where(line, column, asPosition: false)}: {detail}",
        "json" => $"json output{Where(line, column, asPosition: false)}: {detail}",
        // For CSV, Line is the record (the header is record 1) and Column the field, since quoted fields may span lines.
        "csv" => $"csv file{(line is { } record ? $" at record {record}" : "")}{(column is { } field ? $", field {field}" : "")}: {detail}",
        _ => $"{kind} '{Shorten(expression)}'{Where(line, column, asPosition: false)}: {detail}",
    };

    private static string Where(int? line, int? column, bool asPosition) => (line, column) switch
    {
        (_, { } c) when asPosition => $" at position {c}",
        ({ } l, { } c) => $" at line {l}, column {c}",
        ({ } l, null) => $" at line {l}",
        _ => "",
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
