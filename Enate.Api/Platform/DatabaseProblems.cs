using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Enate.Api.Platform;

/// What reaches the exception handler from the store is never a bare 500: a value the database refuses is the
/// request's (400, and nothing was written: the transaction rolled back); two writes of one thing at the same moment
/// are a 409 for the one that lost (Marten's checks of a document's revision, a stream's version or an id already taken,
/// or a unique key in PostgreSQL, however they were wrapped), which changed nothing and may read again and retry; a
/// database that is away or busy is a 503 with Retry-After, so a client that retries on 5xx retries only what may then
/// succeed.
public sealed class DatabaseProblems(ILogger<DatabaseProblems> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (context.Response.HasStarted) return false;
        var database = Enate.Domain.Platform.DatabaseErrors.Of(exception);
        if (IsConflict(exception) || database is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            logger.LogInformation("A request lost a race with another write of the same thing: {Reason}", exception.Message);
            await Problems.Conflict("concurrent-change",
                "Another request wrote the same thing at the same moment; this one changed nothing. Read it again and retry.").ExecuteAsync(context);
            return true;
        }
        switch (database)
        {
            case PostgresException refused when Enate.Domain.Platform.DatabaseErrors.IsRefusedValue(refused):
                logger.LogWarning("A request held a value PostgreSQL refused ({SqlState}): {Reason}", refused.SqlState, refused.MessageText);
                context.RequestServices.GetRequiredService<Enate.Domain.Platform.TenantDatabases>().ClearPools();
                await Problems.BadRequest("unstorable-value",
                    $"The request holds a value the platform cannot store ({Enate.Domain.Platform.DatabaseErrors.Refusal(refused)}); nothing was recorded.").ExecuteAsync(context);
                return true;
            case null:
                return false;
            default:
                logger.LogError(exception, "The database failed a request");
                context.Response.Headers.RetryAfter = "5";
                await Problems.Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "Service unavailable.",
                    "The platform's database did not answer; nothing was recorded. Retry in a few seconds.").ExecuteAsync(context);
                return true;
        }
    }

    /// Marten's optimistic checks, found behind whatever wrapped them.
    public static bool IsConflict(Exception exception) => Enate.Domain.Platform.DatabaseErrors.Find(exception, e =>
        e is JasperFx.ConcurrencyException or JasperFx.DocumentAlreadyExistsException or JasperFx.Events.EventStreamUnexpectedMaxEventIdException) is not null;
}
