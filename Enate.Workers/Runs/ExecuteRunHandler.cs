using System.Text.Json.Nodes;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Steps;
using Enate.Domain.Transforms;
using Enate.Domain.Outbound;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Executes a run's steps, as many as one message safely can: every step up to and including its next call to
/// another system, and the steps after that call up to the one after it — pure steps (transforms, filters) need no
/// commit of their own. Each call's outcome is committed before the next call is made, so a worker that dies
/// mid-call redoes only what was not committed: the pure steps before it (deterministic) and the call itself, under
/// the same Idempotency-Key. A step that completed is never executed again: the aggregate knows which steps are done.
public static class ExecuteRunHandler
{
    public static Task Handle(ExecuteRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct) =>
        NextStepsAsync(new ContinueRun(command.RunId, command.TenantId), session, bus, caller, clock, ct);

    public static Task Handle(ContinueRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct) =>
        NextStepsAsync(command, session, bus, caller, clock, ct);

    private static async Task NextStepsAsync(ContinueRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var (runId, ending, recipe) = await StepsAsync(command, session, bus, caller, clock, ct);
        // An Enate action waiting for its callback hears the outcome, whatever it is, in the same transaction.
        if (ending is not null && recipe?.Callback?.Mode == "callEnate")
        {
            var success = ending is RunSucceeded or RunSkipped;
            var reason = ending switch { RunFailed f => f.Reason, RunDeadLettered d => d.Reason, _ => null };
            await bus.PublishAsync(new SendEnateCallback(runId, session.TenantId, success, reason),
                new DeliveryOptions { TenantId = session.TenantId });
        }
    }

    private static async Task<(Guid RunId, object? Ending, RecipeDefinition? Recipe)> StepsAsync(ContinueRun command,
        IDocumentSession session, IMessageContext bus, OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Run>(command.RunId, ct);
        var run = stream.Aggregate;
        if (run is null || run.IsFinished) return (command.RunId, null, null);
        // A stale delivery: a retry is scheduled for another attempt.
        if (run.PendingAttempt is { } pending && command.Attempt != pending) return (command.RunId, null, null);

        var reads = await RunReads.LoadAsync(session, run, ct);
        var recipe = reads.Recipe;
        if (!run.Started)
        {
            var started = new RunStarted(run.Id, 1, Environment.MachineName, clock.GetUtcNow());
            stream.AppendOne(started);
            run.Apply(started);
        }

        var input = reads.Input;
        var called = false;
        while (true)
        {
            var now = clock.GetUtcNow();
            var step = recipe.Steps.FirstOrDefault(s => !run.CompletedSteps.ContainsKey(s.Id));
            if (step is null)
            {
                return End(new RunSucceeded(run.Id, run.LastOutput ?? RunContext.ToElement(null), now));
            }

            var context = RunContext.Build(run.Id, session.TenantId, run.RecipeKey, run.RecipeVersion, input, run.CompletedSteps);
            StepPlan? plan = null;
            string? defect = null;
            try
            {
                plan = StepInterpreter.Plan(step, context);
            }
            catch (TransformException ex)
            {
                defect = $"Step '{step.Id}': {ex.Message}";
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or System.Text.Json.JsonException)
            {
                // A defect in interpreting this step: retrying cannot help, and the run must not hang.
                defect = $"Step '{step.Id}' could not be interpreted: {ex.Message}";
            }

            // A second call waits for the first one's outcome to be committed: the next message makes it.
            if (called && plan is CallPlan)
            {
                await ContinueAsync(bus, run.Id, session.TenantId);
                return (run.Id, null, recipe);
            }

            var attempt = run.AttemptsOf(step.Id) + 1;
            var stepStarted = new StepStarted(run.Id, step.Id, step.Type, attempt, now);
            stream.AppendOne(stepStarted);
            run.Apply(stepStarted);
            if (defect is not null) return End(new RunFailed(run.Id, step.Id, defect, now));

            switch (plan)
            {
                case SkipPlan skip:
                    return End(new RunSkipped(run.Id, step.Id, skip.Reason, now));
                case OutputPlan output:
                    var element = RunContext.ToElement(output.Output);
                    if (output.IsTransform) stream.AppendOne(new TransformApplied(run.Id, step.Id, element, now));
                    var done = new StepCompleted(run.Id, step.Id, element, now);
                    stream.AppendOne(done);
                    run.Apply(done);
                    continue;
                case CallPlan call:
                    var (completed, ending) = await CallAsync(run, step, attempt, call, reads, stream, session, bus, caller, clock, ct);
                    if (completed is null) return (run.Id, ending, recipe);
                    run.Apply(completed);
                    called = true;
                    continue;
                default:
                    return (run.Id, null, recipe);
            }
        }

        (Guid, object?, RecipeDefinition?) End(object ending)
        {
            stream.AppendOne(ending);
            return (run.Id, ending, recipe);
        }
    }

    /// Makes the call and records its outcome: the step completed (appended, for the caller to go on from), or the
    /// run's ending, or neither when a retry is scheduled.
    private static async Task<(StepCompleted? Completed, object? Ending)> CallAsync(Run run, StepDefinition step, int attempt,
        CallPlan call, RunReads reads, JasperFx.Events.IEventStream<Run> stream, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var connection = await reads.ConnectionAsync(session, call.Connection, ct);
        if (connection is null)
        {
            var missing = new RunFailed(run.Id, step.Id, $"Step '{step.Id}': connection '{call.Connection}' does not exist.", clock.GetUtcNow());
            stream.AppendOne(missing);
            return (null, missing);
        }

        // The same key on every attempt, so a partner that honours it never doubles the effect.
        var sent = OutboundRequests.Describe(run.Id, step.Id, attempt, call, connection, clock.GetUtcNow());
        // Nothing is committed before the call: the incoming message is marked handled in the same
        // transaction, so a worker that dies mid-call leaves the message to be recovered and the call
        // is made again, under the same Idempotency-Key.
        var result = await caller.SendAsync(sent, call, connection, ct);
        var now = clock.GetUtcNow();
        var events = new List<object> { sent, result.Recorded };
        var outcome = result.Outcome;
        StepCompleted? completed = null;
        if (outcome.Succeeded)
        {
            completed = new StepCompleted(run.Id, step.Id, result.Output, now);
            events.Add(completed);
        }
        else if (!outcome.Transient)
        {
            events.Add(new RunFailed(run.Id, step.Id, outcome.Refused
                ? $"Step '{step.Id}': {outcome.Error}"
                : $"Step '{step.Id}': {call.Method} {sent.Url} answered {outcome.Status}, which is not worth retrying.", now));
        }
        else
        {
            var reason = outcome.Error ?? $"{call.Method} {sent.Url} answered {outcome.Status}.";
            var delay = RetrySchedule.For(reads.Recipe.Retry).DelayBefore(attempt + 1, outcome.RetryAfter, Random.Shared.NextDouble());
            if (delay is { } wait)
            {
                events.Add(new RetryScheduled(run.Id, step.Id, attempt + 1, now + wait, reason, now));
                await bus.PublishAsync(new ContinueRun(run.Id, session.TenantId, attempt + 1),
                    new DeliveryOptions { TenantId = session.TenantId, ScheduleDelay = wait });
            }
            else
            {
                events.Add(new RunDeadLettered(run.Id, step.Id, attempt, $"Step '{step.Id}' failed {attempt} time(s); last: {reason}", now));
            }
        }
        stream.AppendMany(events);
        return (completed, events.FirstOrDefault(e => e is RunFailed or RunDeadLettered));
    }

    private static ValueTask ContinueAsync(IMessageContext bus, Guid runId, string tenantId) =>
        bus.PublishAsync(new ContinueRun(runId, tenantId), new DeliveryOptions { TenantId = tenantId });
}
