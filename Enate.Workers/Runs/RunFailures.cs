using Enate.Domain.Platform;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using Wolverine.Runtime;

namespace Enate.Workers.Runs;

/// The safety net behind the engine: a run message that fails for a reason retrying cannot change (a recipe version
/// gone, a value the database refuses), or that retrying for about 21 minutes did not change, goes to Wolverine's dead
/// letters, and its run records why, so it never stays requested, running or waiting without anything to move it on (a
/// bulk replay's step that does so ends its job failed: AdvanceReplayHandler.FailAsync).
/// A database that is away is waited for without end instead.
public static class RunFailures
{
    /// A failure that retrying cannot change: neither a race on a stream's version nor one worth trying again.
    public static bool IsPermanent(Exception exception) => exception is not JasperFx.ConcurrencyException && !IsWorthRetrying(exception);

    /// Worth trying again for a while: the database failed for a reason of its own, the driver lost its place on a
    /// connection, or the handling was cancelled or timed out.
    public static bool IsWorthRetrying(Exception exception) =>
        exception is OperationCanceledException or TimeoutException || IsDatabaseError(exception) || DatabaseErrors.IsOutOfStep(exception);

    /// The database is away or overloaded (the connection broke or timed out, the server is restarting, out of
    /// connections or disk): Npgsql's own judgement that trying again may succeed. Worth waiting for, however long.
    public static bool IsDatabaseAway(Exception exception) => DatabaseErrors.Of(exception) is { IsTransient: true };

    /// The database failed for a reason of its own, not the data (a value it refuses: SQLSTATE class 22 or 54): worth
    /// trying again for a while.
    public static bool IsDatabaseError(Exception exception) =>
        DatabaseErrors.Of(exception) is { } error && !DatabaseErrors.IsRefusedValue(error);

    /// What the run's record says about a failure outside its steps. The tenant reads it, and the failure's notification
    /// carries it to the tenant's endpoints, so a failure of the platform's own says what kind it was, not its text: a
    /// connection error names the database's host, and Marten's wrapper quotes the SQL it ran. A value the database
    /// refused is the run's own data and keeps PostgreSQL's words; a reason worded for the tenant (RunCannotGoOn) is
    /// given as it is; any other exception by its kind alone. The log has the whole exception.
    public static string ReasonFor(Exception exception) => DatabaseErrors.Of(exception) switch
    {
        Npgsql.PostgresException e when DatabaseErrors.IsRefusedValue(e) =>
            $"The run could not go on: the database refused a value of this run (SQLSTATE {e.SqlState}: {DatabaseErrors.Refusal(e)}).",
        Npgsql.PostgresException e => $"The run could not go on: the platform's database failed (SQLSTATE {e.SqlState}) through every retry.",
        { } => "The run could not go on: the connection to the platform's database failed through every retry.",
        null when exception is OperationCanceledException or TimeoutException =>
            "The run could not go on: handling it was cancelled or timed out through every retry.",
        null when exception is RunCannotGoOn => $"The run could not go on: {exception.Message}",
        null => $"The run could not go on: the platform failed ({exception.GetType().Name}); its operators have the details.",
    };

    public static async ValueTask RecordAsync(IWolverineRuntime runtime, IEnvelopeLifecycle context, Exception exception)
    {
        // Whatever the message, the connection the value was refused on may be left unusable for the statement
        // (TenantDatabases.ClearPools).
        if (DatabaseErrors.IsRefusedValue(DatabaseErrors.Of(exception))) runtime.Services.GetRequiredService<TenantDatabases>().ClearPools();
        if (context.Envelope is { Message: Enate.Domain.Replays.AdvanceReplay step, TenantId: { } jobTenant })
        {
            await Replays.AdvanceReplayHandler.FailAsync(runtime, jobTenant, step.ReplayId, exception);
            return;
        }
        if (context.Envelope?.Message is not (ExecuteRun or ReplayRun or ContinueRun or SendEnateCallback) || context.Envelope.TenantId is not { } tenant) return;
        var runId = context.Envelope.Message switch
        {
            ExecuteRun m => m.RunId,
            ReplayRun m => m.RunId,
            ContinueRun m => m.RunId,
            SendEnateCallback m => m.RunId,
            _ => Guid.Empty,
        };
        if (await FailAsync(runtime, tenant, runId, ReasonFor(exception), callback: context.Envelope.Message is SendEnateCallback))
            runtime.Services.GetRequiredService<ILogger<Run>>()
                .LogError(exception, "Run {RunId} failed outside its steps; its message went to the dead letters", runId);
    }

    /// Records that the run cannot go on: an unfinished run ends failed with the reason, and its failure's notification
    /// commits with it (through the outbox); a finished run whose Enate callback was the message records the callback
    /// failed. Whether anything was recorded.
    public static async Task<bool> FailAsync(IWolverineRuntime runtime, string tenant, Guid runId, string reason, bool callback)
    {
        var outbox = runtime.Services.GetRequiredService<Wolverine.Marten.Publishing.OutboxedSessionFactory>();
        var clock = runtime.Services.GetRequiredService<TimeProvider>();
        var bus = new MessageContext(runtime);
        await using var session = outbox.OpenSession(bus, tenant);
        var stream = await session.Events.FetchForWriting<Run>(runId);
        if (stream.Aggregate is not { } run) return false;
        if (!run.IsFinished)
        {
            var failed = new RunFailed(runId, null, reason, clock.GetUtcNow());
            stream.AppendOne(failed);
            await bus.PublishAsync(Enate.Domain.Notifications.Notices.OfRun(run, failed, tenant)!, new DeliveryOptions { TenantId = tenant });
        }
        else if (callback && !run.CallbackDone)
            stream.AppendOne(new EnateCallbackFailed(runId, run.Status == RunStatus.Succeeded ? "success" : "failure", reason, clock.GetUtcNow()));
        else return false;
        await session.SaveChangesAsync();
        return true;
    }
}
