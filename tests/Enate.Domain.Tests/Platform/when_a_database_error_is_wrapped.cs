using Enate.Domain.Platform;
using Npgsql;

namespace Enate.Domain.Tests.Platform;

/// The Workers retry a run whose step failed because the database was away, and fail it only for data the database
/// refuses; both decisions start from the driver's error, found behind whatever wrapped it.
public sealed class when_a_database_error_is_wrapped
{
    private static readonly NpgsqlException Away = new("Exception while reading from stream", new IOException("connection reset"));

    [Fact]
    public void the_drivers_error_is_found_however_deep_it_was_wrapped()
    {
        Assert.Same(Away, DatabaseErrors.Of(Away));
        Assert.Same(Away, DatabaseErrors.Of(new InvalidOperationException("a command failed", Away)));
        Assert.Same(Away, DatabaseErrors.Of(new Exception("a handler failed", new InvalidOperationException("a command failed", Away))));
        Assert.Same(Away, DatabaseErrors.Of(new AggregateException(new TimeoutException(), new Exception("a batch failed", Away))));
        Assert.Same(Away, DatabaseErrors.Of(new Exception("a task failed", new AggregateException(Away))));
    }

    [Fact]
    public void the_first_of_several_is_the_one_named_and_a_refusal_keeps_its_state()
    {
        var refused = new PostgresException("value too long for type character varying(10)", "ERROR", "ERROR", "22001");
        var found = DatabaseErrors.Of(new AggregateException(new Exception("the step", refused), Away));
        Assert.Same(refused, found);
        Assert.Equal("22001", ((PostgresException)found!).SqlState);
    }

    [Fact]
    public void an_error_that_is_not_the_databases_has_none()
    {
        Assert.Null(DatabaseErrors.Of(new InvalidOperationException("a recipe version is gone")));
        Assert.Null(DatabaseErrors.Of(new AggregateException(new TimeoutException(), new FormatException())));
        Assert.Null(DatabaseErrors.Of(new Exception("outer", new Exception("inner"))));
    }

    [Fact]
    public void a_value_the_database_refuses_is_told_from_the_database_failing()
    {
        Assert.True(DatabaseErrors.IsRefusedValue(new PostgresException("invalid input syntax for type uuid", "ERROR", "ERROR", "22P02")));
        Assert.True(DatabaseErrors.IsRefusedValue(new PostgresException("index row size exceeds maximum", "ERROR", "ERROR", "54000")));
        Assert.False(DatabaseErrors.IsRefusedValue(new PostgresException("the database system is starting up", "FATAL", "FATAL", "57P03")));
        Assert.False(DatabaseErrors.IsRefusedValue(Away));
        Assert.False(DatabaseErrors.IsRefusedValue(null));
    }

    [Fact]
    public void a_refusal_says_what_was_wrong_with_the_value_and_names_none_of_the_platforms_objects()
    {
        // As PostgreSQL 15 reports an idempotency key too long for its index (SQLSTATE 54000, fields as it sends them).
        var tooLong = new PostgresException("index row size 2896 exceeds btree version 4 maximum 2704 for index \"mt_doc_runidempotency_pkey\"",
            "ERROR", "ERROR", "54000", schemaName: "enate", tableName: "mt_doc_runidempotency", constraintName: "mt_doc_runidempotency_pkey");
        Assert.Equal("index row size 2896 exceeds btree version 4 maximum 2704", DatabaseErrors.Refusal(tooLong));

        // A name in another phrasing is replaced all the same.
        var elsewhere = new PostgresException("row of \"mt_doc_runsummary\" is too wide", "ERROR", "ERROR", "54000", tableName: "mt_doc_runsummary");
        Assert.Equal("row of an object of the platform's is too wide", DatabaseErrors.Refusal(elsewhere));

        // The client's own value is kept: it tells which value to change.
        var syntax = new PostgresException("invalid input syntax for type uuid: \"not-a-guid\"", "ERROR", "ERROR", "22P02");
        Assert.Equal("invalid input syntax for type uuid: \"not-a-guid\"", DatabaseErrors.Refusal(syntax));
        var nul = new PostgresException("unsupported Unicode escape sequence", "ERROR", "ERROR", "22P05");
        Assert.Equal("unsupported Unicode escape sequence", DatabaseErrors.Refusal(nul));
    }

    [Fact]
    public void a_background_round_skips_for_the_database_or_a_timeout_and_for_nothing_else()
    {
        Assert.True(DatabaseErrors.IsDatabaseOrTimeout(new InvalidOperationException("a command failed", Away)));
        Assert.True(DatabaseErrors.IsDatabaseOrTimeout(new TimeoutException()));
        Assert.False(DatabaseErrors.IsDatabaseOrTimeout(new InvalidOperationException("a recipe version is gone")));
    }
}
