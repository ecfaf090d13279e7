using System.Text.RegularExpressions;
using Npgsql;

namespace Enate.Domain.Platform;

public static partial class DatabaseErrors
{
    /// The driver's error behind an exception, however it was wrapped: the exception itself, the one Marten wrapped in
    /// its own (MartenCommandException) once its brief retries were spent, or one deeper in the chain (an inner
    /// exception's inner exception, any of an AggregateException's). Null when the database is not what failed.
    public static NpgsqlException? Of(Exception exception) => (NpgsqlException?)Find(exception, e => e is NpgsqlException, 0);

    /// The first exception that matches, however it was wrapped: the exception itself, an inner one, or any of an
    /// AggregateException's (Marten's unit of work throws several at once).
    public static Exception? Find(Exception exception, Func<Exception, bool> matches) => Find(exception, matches, 0);

    /// A value the database refuses (SQLSTATE class 22, data exception, or 54, a limit exceeded): the data's fault, so
    /// trying it again cannot help, and a request that sent it made the mistake.
    public static bool IsRefusedValue(NpgsqlException? error) => error is PostgresException { SqlState: ['2', '2', ..] or ['5', '4', ..] };

    /// What a client or a tenant may read of a value the database refused: PostgreSQL's words, which say what was wrong
    /// with the value (and may quote it), without the names of the platform's own tables, indexes and constraints that
    /// some of them carry (`index row size 2896 exceeds btree version 4 maximum 2704 for index "mt_doc_runidempotency_pkey"`).
    public static string Refusal(PostgresException refused)
    {
        var text = ObjectNamed().Replace(refused.MessageText, "");
        foreach (var name in new[] { refused.ConstraintName, refused.TableName, refused.SchemaName }.OfType<string>().Where(n => n.Length > 0))
            text = text.Replace($"\"{name}\"", "an object of the platform's");
        return text;
    }

    [GeneratedRegex("""\s+(?:for|of|in|on) (?:index|relation|table|constraint) "[^"]*"(?:\."[^"]*")?""")]
    private static partial Regex ObjectNamed();

    /// Npgsql lost its place in the conversation with the server on one connection ("Received unexpected backend
    /// message …", a plain Exception): it closes that connection, and the statement may or may not have run. Another
    /// connection serves it again (decision 85 names one cause).
    public static bool IsOutOfStep(Exception exception) => Find(exception, e =>
        e.GetType() == typeof(Exception) && e.Message.StartsWith("Received unexpected backend message", StringComparison.Ordinal)) is not null;

    /// The database failed, or a wait for it timed out: what a background round skips and tries again next time.
    public static bool IsDatabaseOrTimeout(Exception exception) => exception is TimeoutException || Of(exception) is not null;

    // Deep enough for any real wrapping, and a guard against a cycle of inner exceptions.
    private const int Deepest = 16;

    private static Exception? Find(Exception? exception, Func<Exception, bool> matches, int depth)
    {
        if (exception is null || depth > Deepest) return null;
        if (matches(exception)) return exception;
        if (exception is AggregateException aggregate)
            foreach (var inner in aggregate.InnerExceptions)
                if (Find(inner, matches, depth + 1) is { } found) return found;
        return Find(exception.InnerException, matches, depth + 1);
    }
}
