using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Enate.Api.Platform;

/// What reaches the exception handler from PostgreSQL is never a bare 500: a value the database refuses is the
/// request's (400, and nothing was written: the transaction rolled back), a database that is away or busy is a 503
/// with Retry-After, so a client that retries on 5xx retries only what may then succeed.
public sealed class DatabaseProblems(ILogger<DatabaseProblems> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (context.Response.HasStarted) return false;
        var database = Enate.Domain.Platform.DatabaseErrors.Of(exception);
        switch (database)
        {
            case PostgresException refused when Enate.Domain.Platform.DatabaseErrors.IsRefusedValue(refused):
                logger.LogWarning("A request held a value PostgreSQL refused ({SqlState}): {Reason}", refused.SqlState, refused.MessageText);
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
}
