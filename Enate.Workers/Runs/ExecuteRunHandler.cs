using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Steps;
using Enate.Domain.Transforms;
using Enate.Domain.Outbound;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Executes one step of a run per message, records what happened, and sends itself the next step.
/// A step that completed is never executed again: the aggregate knows which steps are done.
public static class ExecuteRunHandler
{
    public static Task Handle(ExecuteRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct) =>
        NextStepAsync(new ContinueRun(command.RunId, command.TenantId), session, bus, caller, clock, ct);

    public static Task Handle(ContinueRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct) =>
        NextStepAsync(command, session, bus, caller, clock, ct);

    private static async Task NextStepAsync(ContinueRun command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var (runId, ending, recipe) = await StepAsync(command, session, bus, caller, clock, ct);
        // An Enate action waiting for its callback hears the outcome, whatever it is, in the same transaction.
        if (ending is not null && recipe?.Callback?.Mode == "callEnate")
        {
            var success = ending is RunSucceeded or RunSkipped;
            var reason = ending switch { RunFailed f => f.Reason, RunDeadLettered d => d.Reason, _ => null };
            await bus.PublishAsync(new SendEnateCallback(runId, session.TenantId, success, reason),
                new DeliveryOptions { TenantId = session.TenantId });
        }
    }

    private static async Task<(Guid RunId, object? Ending, RecipeDefinition? Recipe)> StepAsync(ContinueRun command,
        IDocumentSession session, IMessageContext bus, OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Run>(command.RunId, ct);
        var run = stream.Aggregate;
        if (run is null || run.IsFinished) return (command.RunId, null, null);
        // A stale delivery: a retry is scheduled for another attempt.
        if (run.PendingAttempt is { } pending && command.Attempt != pending) return (command.RunId, null, null);

        var recipe = (await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(run.RecipeKey, run.RecipeVersion), ct))!.Definition;
        var now = clock.GetUtcNow();
        if (!run.Started) stream.AppendOne(new RunStarted(run.Id, 1, Environment.MachineName, now));

        var step = recipe.Steps.FirstOrDefault(s => !run.CompletedSteps.ContainsKey(s.Id));
        if (step is null)
        {
            return End(new RunSucceeded(run.Id, run.LastOutput ?? RunContext.ToElement(null), now));
        }

        var attempt = run.AttemptsOf(step.Id) + 1;
        stream.AppendOne(new StepStarted(run.Id, step.Id, step.Type, attempt, now));

        var input = await RunInputs.OfAsync(session, run, ct);
        var context = RunContext.Build(run.Id, session.TenantId, run.RecipeKey, run.RecipeVersion, input, run.CompletedSteps);
        StepPlan plan;
        try
        {
            plan = StepInterpreter.Plan(step, context);
        }
        catch (TransformException ex)
        {
            return End(new RunFailed(run.Id, step.Id, $"Step '{step.Id}': {ex.Message}", now));
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or ArgumentException or System.Text.Json.JsonException)
        {
            // A defect in interpreting this step: retrying cannot help, and the run must not hang.
            return End(new RunFailed(run.Id, step.Id, $"Step '{step.Id}' could not be interpreted: {ex.Message}", now));
        }

        switch (plan)
        {
            case SkipPlan skip:
                return End(new RunSkipped(run.Id, step.Id, skip.Reason, now));
            case OutputPlan output:
                var element = RunContext.ToElement(output.Output);
                if (output.IsTransform) stream.AppendOne(new TransformApplied(run.Id, step.Id, element, now));
                stream.AppendOne(new StepCompleted(run.Id, step.Id, element, now));
                await ContinueAsync(bus, run.Id, session.TenantId);
                return (run.Id, null, recipe);
            case CallPlan call:
                return (run.Id, await CallAsync(run, step, attempt, call, recipe, stream, session, bus, caller, clock, ct), recipe);
            default:
                return (run.Id, null, recipe);
        }

        (Guid, object?, RecipeDefinition?) End(object ending)
        {
            stream.AppendOne(ending);
            return (run.Id, ending, recipe);
        }
    }

    private static async Task<object?> CallAsync(Run run, StepDefinition step, int attempt, CallPlan call, RecipeDefinition recipe,
        JasperFx.Events.IEventStream<Run> stream, IDocumentSession session, IMessageContext bus, OutboundCaller caller,
        TimeProvider clock, CancellationToken ct)
    {
        var connection = await session.LoadAsync<Connection>(call.Connection, ct);
        if (connection is null)
        {
            var missing = new RunFailed(run.Id, step.Id, $"Step '{step.Id}': connection '{call.Connection}' does not exist.", clock.GetUtcNow());
            stream.AppendOne(missing);
            return missing;
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
        if (outcome.Succeeded)
        {
            events.Add(new StepCompleted(run.Id, step.Id, result.Output, now));
            await ContinueAsync(bus, run.Id, session.TenantId);
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
            var delay = RetrySchedule.For(recipe.Retry).DelayBefore(attempt + 1, outcome.RetryAfter, Random.Shared.NextDouble());
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
        return events.FirstOrDefault(e => e is RunFailed or RunDeadLettered);
    }

    private static ValueTask ContinueAsync(IMessageContext bus, Guid runId, string tenantId) =>
        bus.PublishAsync(new ContinueRun(runId, tenantId), new DeliveryOptions { TenantId = tenantId });
}
