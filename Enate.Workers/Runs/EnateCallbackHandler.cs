using Enate.Domain.Engine;
using Enate.Domain.Outbound;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Pattern 1 with callback: tells the waiting Enate action how the run ended (RunEngine.CallBackAsync). Retried like
/// any outbound call; the Idempotency-Key is the run's, so Enate never sees two outcomes.
public static class EnateCallbackHandler
{
    public static async Task Handle(SendEnateCallback command, IDocumentSession session, IMessageContext bus, RunEngine engine,
        OutboundCaller caller, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Run>(command.RunId, ct);
        var run = stream.Aggregate;
        if (run is null || run.CallbackDone) return;
        // A stale delivery: a retry is scheduled for another attempt.
        if (run.PendingCallbackAttempt is { } pending && command.Attempt != pending) return;

        var reads = await RunReads.LoadAsync(session, run, ct);
        var pass = await engine.CallBackAsync(run, reads.Scope, caller, command.Attempt, ct);
        stream.AppendMany(pass.Events);
        await RunMessages.FollowAsync(pass.Next, run.Id, session.TenantId, bus);
    }
}
