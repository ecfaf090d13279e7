using Npgsql;

namespace Enate.Domain.Platform;

public static class DatabaseErrors
{
    /// The driver's error behind an exception: the exception itself, or the one Marten wrapped in its own
    /// (MartenCommandException) once its brief retries were spent. Null when the database is not what failed.
    public static NpgsqlException? Of(Exception exception) => exception as NpgsqlException ?? exception.InnerException as NpgsqlException;
}
