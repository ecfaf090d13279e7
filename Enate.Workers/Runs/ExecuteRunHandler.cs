using Enate.Domain.Engine;
using Enate.Domain.Outbound;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Hands a run to the engine and records what it decided. One pass executes every step up to and including the
/// run's next call to another system, and the pure steps after it (the engine stops before a second call). Each
/// call's outcome is committed, with the handled mark of this message, before the next call is made, so a worker that
/// dies mid-call redoes only what was not committed: the pure steps before it (deterministic) and the call itself,
/// under the same Idempotency-Key. A step that completed is never executed again: the aggregate knows which are done.
public static class ExecuteRunHandler
{
    public static Task Handle(ExecuteRun command, IDocumentSession session, IMessageContext bus, RunEngine engine, OutboundCaller caller,
        TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, null, session, bus, engine, caller, slots, ct);

    public static Task Handle(ReplayRun command, IDocumentSession session, IMessageContext bus, RunEngine engine, OutboundCaller caller,
        TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, null, session, bus, engine, caller, slots, ct);

    public static Task Handle(ContinueRun command, IDocumentSession session, IMessageContext bus, RunEngine engine, OutboundCaller caller,
        TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, command.Attempt, session, bus, engine, caller, slots, ct);

    private static async Task AdvanceAsync(object message, Guid runId, int? attempt, IDocumentSession session, IMessageContext bus,
        RunEngine engine, OutboundCaller caller, TenantSlots slots, CancellationToken ct)
    {
        // One tenant's slow partner must not hold every slot of this replica: over its share, the message is sent again
        // for a moment later (in this message's transaction), and this delivery ends.
        using var slot = await slots.TakeAsync(session.TenantId, ct);
        if (slot is null)
        {
            await bus.PublishAsync(message, new DeliveryOptions { TenantId = session.TenantId, ScheduleDelay = slots.Wait });
            return;
        }

        var stream = await session.Events.FetchForWriting<Run>(runId, ct);
        var run = stream.Aggregate;
        if (run is null || run.IsFinished) return;
        // A stale delivery: a retry is scheduled for another attempt.
        if (run.PendingAttempt is { } pending && attempt != pending) return;

        var reads = await RunReads.LoadAsync(session, run, ct);
        var pass = await engine.AdvanceAsync(run, reads.Scope, caller, maxCalls: 1, ct);
        stream.AppendMany(pass.Events);
        await RunMessages.FollowAsync(pass.Next, run.Id, session.TenantId, bus);
        // A run that ends failed tells the tenant's endpoints, in the transaction that records it.
        foreach (var happened in pass.Events)
            if (Enate.Domain.Notifications.Notices.OfRun(run, happened, session.TenantId) is { } notice)
                await bus.PublishAsync(notice, new DeliveryOptions { TenantId = session.TenantId });
    }
}

/// What the engine's next step becomes in Wolverine: a message to this replica's durable step queue, now or later.
public static class RunMessages
{
    public static async Task FollowAsync(Next next, Guid runId, string tenantId, IMessageContext bus)
    {
        object? message = next switch
        {
            Next.GoOn => new ContinueRun(runId, tenantId),
            Next.RetryAfter { Callback: false } retry => new ContinueRun(runId, tenantId, retry.Attempt),
            Next.RetryAfter { Callback: true } retry => new SendEnateCallback(runId, tenantId, retry.Attempt),
            Next.CallBack => new SendEnateCallback(runId, tenantId),
            _ => null,
        };
        if (message is null) return;
        var delay = next is Next.RetryAfter r ? r.Delay : (TimeSpan?)null;
        await bus.PublishAsync(message, new DeliveryOptions { TenantId = tenantId, ScheduleDelay = delay });
    }
}
