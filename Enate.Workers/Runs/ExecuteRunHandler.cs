using Enate.Domain.Engine;
using Enate.Domain.Outbound;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Hands a run to the engine and records what it decided. One pass executes every step up to and including the
/// run's next call to another system, and the pure steps after it (the engine stops before a second call). A run with
/// more calls goes on in the same message: each pass but the last is committed on its own (its events and read model,
/// checked against the stream's version) before the next call is made, and the last pass commits with the handled mark
/// of this message and what comes next (a retry, the callback, a notification). A worker that dies mid-call leaves the
/// message unhandled, and its next delivery redoes only what was not committed: the pure steps before the call
/// (deterministic) and the call itself, under the same Idempotency-Key. A step that completed is never executed again:
/// the aggregate knows which are done.
public static class ExecuteRunHandler
{
    /// How long one message goes on with a run's calls. A run with more to do after that sends itself ContinueRun and
    /// queues again behind the others, so a long chain of calls to a slow partner neither holds a slot unfairly nor
    /// nears the message's execution timeout.
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    public static Task Handle(ExecuteRun command, IDocumentSession session, IDocumentStore store, IMessageContext bus, RunEngine engine,
        OutboundCaller caller, TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, null, session, store, bus, engine, caller, slots, ct, command.Recipe, command.Inbound);

    public static Task Handle(ReplayRun command, IDocumentSession session, IDocumentStore store, IMessageContext bus, RunEngine engine,
        OutboundCaller caller, TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, null, session, store, bus, engine, caller, slots, ct, command.Recipe);

    public static Task Handle(ContinueRun command, IDocumentSession session, IDocumentStore store, IMessageContext bus, RunEngine engine,
        OutboundCaller caller, TenantSlots slots, CancellationToken ct) =>
        AdvanceAsync(command, command.RunId, command.Attempt, session, store, bus, engine, caller, slots, ct);

    private static async Task AdvanceAsync(object message, Guid runId, int? attempt, IDocumentSession session, IDocumentStore store,
        IMessageContext bus, RunEngine engine, OutboundCaller caller, TenantSlots slots, CancellationToken ct, string? recipe = null, Guid? inbound = null)
    {
        // One tenant's slow partner must not hold every slot of this replica: over its share, the message is sent again
        // for a moment later (in this message's transaction), and this delivery ends.
        using var slot = await slots.TakeAsync(session.TenantId, ct);
        if (slot is null)
        {
            await bus.PublishAsync(message, new DeliveryOptions { TenantId = session.TenantId, ScheduleDelay = slots.Wait });
            return;
        }

        // A new run's message says what the run needs: read with its stream in one round trip.
        var (stream, reads) = recipe is null
            ? (await session.Events.FetchForWriting<Run>(runId, ct), null)
            : await RunReads.FetchAsync(session, runId, recipe, inbound, ct);
        var run = stream.Aggregate;
        if (run is null || run.IsFinished) return;
        // A stale delivery: a retry is scheduled for another attempt.
        if (run.PendingAttempt is { } pending && attempt != pending) return;

        reads ??= await RunReads.LoadAsync(session, run, ct);
        var pass = await engine.AdvanceAsync(run, reads.Scope, caller, maxCalls: 1, ct);
        var version = stream.StartingVersion ?? 0;
        var committed = false;
        var began = System.Diagnostics.Stopwatch.GetTimestamp();
        while (pass.Next is Next.GoOn && System.Diagnostics.Stopwatch.GetElapsedTime(began) < Budget)
        {
            await CommitAsync(store, session, run.Id, version, pass.Events, ct);
            version += pass.Events.Count;
            committed = true;
            pass = await engine.AdvanceAsync(run, reads.Scope, caller, maxCalls: 1, ct);
        }

        if (!committed) stream.AppendMany(pass.Events);
        else
        {
            // The summary this session read is from before the passes committed on their own: read it again.
            session.EjectAllOfType(typeof(RunSummary));
            if (pass.Events.Count > 0) session.Events.Append(run.Id, version + pass.Events.Count, pass.Events.ToArray());
        }
        await RunMessages.FollowAsync(pass.Next, run.Id, session.TenantId, bus);
        // A run that ends failed tells the tenant's endpoints, in the transaction that records it.
        foreach (var happened in pass.Events)
            if (Enate.Domain.Notifications.Notices.OfRun(run, happened, session.TenantId) is { } notice)
                await bus.PublishAsync(notice, new DeliveryOptions { TenantId = session.TenantId });
    }

    /// Commits a pass that the run goes on from, in a transaction of its own: its events (the stream must still be at
    /// `version`, or another delivery got there first and this one stops) with the run's read model, traced like
    /// the message's own.
    private static async Task CommitAsync(IDocumentStore store, IDocumentSession session, Guid runId, long version,
        IReadOnlyList<object> events, CancellationToken ct)
    {
        await using var pass = store.LightweightSession(session.TenantId);
        pass.CorrelationId = session.CorrelationId;
        pass.CausationId = session.CausationId;
        pass.Events.Append(runId, version + events.Count, events.ToArray());
        await pass.SaveChangesAsync(ct);
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
