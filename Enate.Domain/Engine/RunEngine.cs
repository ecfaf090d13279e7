using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Transforms;

namespace Enate.Domain.Engine;

/// Finds a connection by name for a run's tenant.
public delegate ValueTask<Connection?> ConnectionLookup(string name, CancellationToken ct);

/// What a pass over a run works with besides the run: its tenant, recipe version, input and connections.
public sealed record RunScope(string TenantId, RecipeDefinition Recipe, JsonElement Input, ConnectionLookup Connections);

/// What comes after a pass.
public abstract record Next
{
    /// Nothing: the run has ended (or had already), or the pass had nothing to do.
    public static readonly Next None = new Stop();
    /// Go on at once with a new pass: the next call waits for this pass's outcome to be committed.
    public static readonly Next Continue = new GoOn();

    public sealed record Stop : Next;
    public sealed record GoOn : Next;
    /// A transient failure: attempt `Attempt` of the run's step (or of its callback) is due after `Delay`.
    public sealed record RetryAfter(int Attempt, TimeSpan Delay, bool Callback) : Next;
    /// The run ended and its Enate action waits to hear how (recipes with callback mode callEnate).
    public sealed record CallBack : Next;
    /// Nothing more can be known: a what-if met a call its recorded run never made.
    public sealed record Halted(string Reason) : Next;
}

/// The events a pass recorded, in order, and what comes after it.
public sealed record Pass(IReadOnlyList<object> Events, Next Next)
{
    public object? Ending => Events.LastOrDefault(RunEngine.IsEnding);
}

/// The run engine: given a recipe version, a run's input and the steps it has completed, it does the next thing —
/// renders a step, asks for a call's answer, finishes, schedules a retry — and turns each outcome into the run's
/// events. Calls go through one seam (IAnswerer): the Workers make them, a dry run pretends, a what-if reads what was
/// recorded. Every failure while rendering, calling or recording a step becomes the run's RunFailed with a reason that
/// names the step; only the host's own cancellation escapes. Pure apart from the answerer, the clock and the random
/// jitter, so it is tested without a database or a network.
public sealed class RunEngine(Limits limits, TimeProvider clock, string worker, Func<double>? random = null)
{
    private readonly Func<double> _random = random ?? Random.Shared.NextDouble;

    public Limits Limits { get; } = limits;

    public static bool IsEnding(object e) => e is RunSucceeded or RunSkipped or RunFailed or RunDeadLettered;

    /// Executes the run's steps in order from the first one not completed: every pure step, and up to `maxCalls` calls
    /// (the Workers make one per pass, so each call's outcome is committed before the next call is made). The events
    /// are applied to `run` as they are recorded.
    public async Task<Pass> AdvanceAsync(Run run, RunScope scope, IAnswerer answerer, int maxCalls, CancellationToken ct)
    {
        var events = new List<object>();
        void Record(object e)
        {
            events.Add(e);
            run.Take(e);
        }
        Pass End(object ending)
        {
            Record(ending);
            return new Pass(events, scope.Recipe.Callback?.Mode == CallbackModes.CallEnate ? new Next.CallBack() : Next.None);
        }

        if (run.IsFinished) return new Pass(events, Next.None);
        if (!run.Started) Record(new RunStarted(run.Id, 1, worker, Now));

        var calls = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var step = scope.Recipe.Steps.FirstOrDefault(s => !run.CompletedSteps.ContainsKey(s.Id));
            if (step is null) return End(new RunSucceeded(run.Id, run.LastOutput ?? RunContext.ToElement(null), Now));

            var budget = new TransformBudget(Limits.Transforms);
            var (plan, defect) = Render(run, scope, step, budget);
            // A second call waits for the first one's outcome to be committed: the next pass makes it.
            if (plan is CallPlan && calls >= maxCalls) return new Pass(events, Next.Continue);

            // No event of its own says the step began: its first one does (the call's request, its output, the run's
            // end), and it is committed in the same transaction as that one.
            var attempt = run.AttemptsOf(step.Id) + 1;
            if (defect is not null) return End(new RunFailed(run.Id, step.Id, defect, Now));

            switch (plan)
            {
                case SkipPlan skip:
                    return End(new RunSkipped(run.Id, step.Id, skip.Reason, Now));
                case OutputPlan output:
                    if (TransformBudget.IsLarger(output.Output, Limits.MaxStepOutputBytes))
                        return End(new RunFailed(run.Id, step.Id, $"Step '{step.Id}': {TooLarge}", Now));
                    Record(new StepCompleted(run.Id, step.Id, RunContext.ToElement(output.Output), Now, step.Type));
                    continue;
                case CallPlan call:
                    var (recorded, next) = await CallAsync(run, scope, step.Id, step.Type, attempt, call, answerer, ct);
                    foreach (var e in recorded.Where(e => !IsEnding(e))) Record(e);
                    if (recorded.LastOrDefault() is { } last && IsEnding(last)) return End(last);
                    if (next is not null) return new Pass(events, next);
                    calls++;
                    continue;
            }
        }
    }

    /// Drives a run to its end without waiting: every call through the answerer, every retry at once. Dry runs and
    /// what-ifs see exactly what the Workers would decide, in virtual time.
    public async Task<Pass> SimulateAsync(Run run, RunScope scope, IAnswerer answerer, CancellationToken ct)
    {
        var events = new List<object>();
        while (true)
        {
            var pass = await AdvanceAsync(run, scope, answerer, int.MaxValue, ct);
            events.AddRange(pass.Events);
            // Retries are taken at once; the callback is not part of a simulation.
            if (pass.Next is Next.RetryAfter { Callback: false } or Next.GoOn) continue;
            return new Pass(events, pass.Next is Next.CallBack ? Next.None : pass.Next);
        }
    }

    /// Tells the waiting Enate action how the run ended, through its CallBackURL with the callback connection's
    /// credentials (only to that connection's origin or its callbackOrigins). Recorded on the run without changing
    /// its outcome; a transient failure is retried on the recipe's schedule.
    public async Task<Pass> CallBackAsync(Run run, RunScope scope, IAnswerer answerer, int attempt, CancellationToken ct)
    {
        var events = new List<object>();
        void Record(object e)
        {
            events.Add(e);
            run.Take(e);
        }
        if (!run.IsFinished || run.CallbackDone || scope.Recipe.Callback is not { Mode: CallbackModes.CallEnate } callback)
            return new Pass(events, Next.None);

        var success = run.Status is RunStatus.Succeeded or RunStatus.Skipped;
        var outcome = success ? "success" : "failure";
        var input = scope.Input;
        var url = input.ValueKind == JsonValueKind.Object && input.TryGetProperty("CallBackURL", out var u) && u.ValueKind == JsonValueKind.String
            ? u.GetString()
            : null;
        var connection = await scope.Connections(callback.Connection ?? "", ct);
        if (string.IsNullOrWhiteSpace(url) || connection is null)
        {
            Record(new EnateCallbackFailed(run.Id, outcome,
                url is null ? "The trigger input has no CallBackURL." : $"Connection '{callback.Connection}' does not exist.", Now));
            return new Pass(events, Next.None);
        }

        JsonObject body;
        try
        {
            body = CallbackBody(run, scope, callback, success);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The custom data template failed: Enate still hears that the integration did not succeed.
            body = new JsonObject { ["outcome"] = "failure", ["rejectedReason"] = $"Callback custom data: {ex.Message}" };
            outcome = "failure";
        }

        var plan = new CallPlan(connection.Id, "POST", url, new Dictionary<string, string>(), body.ToJsonString(), "application/json", Callback: true);
        var (recorded, next) = await CallAsync(run, scope with { Connections = (_, _) => ValueTask.FromResult<Connection?>(connection) },
            Run.CallbackStep, StepTypes.Http, attempt, plan, answerer, ct);
        var status = recorded.OfType<OutboundResponseReceived>().LastOrDefault()?.Status ?? 200;
        foreach (var e in recorded)
        {
            Record(e switch
            {
                StepCompleted => new EnateCallbackSent(run.Id, outcome, status, Now),
                RunFailed failed => new EnateCallbackFailed(run.Id, outcome, failed.Reason, Now),
                RunDeadLettered dead => new EnateCallbackFailed(run.Id, outcome, dead.Reason, Now),
                _ => e,
            });
        }
        return new Pass(events, next is Next.RetryAfter retry ? retry with { Callback = true } : Next.None);
    }

    /// Makes (or asks for) one call and records its outcome: the request and the answer, then the step completed, or
    /// the run's ending, or a retry — never anything sent when the address or origin is not allowed.
    private async Task<(List<object> Events, Next? Next)> CallAsync(Run run, RunScope scope, string stepId, string stepType, int attempt,
        CallPlan call, IAnswerer answerer, CancellationToken ct)
    {
        var events = new List<object>();
        (List<object>, Next?) Fail(string reason)
        {
            events.Add(new RunFailed(run.Id, stepId, $"Step '{stepId}': {reason}", Now));
            return (events, null);
        }

        var connection = await scope.Connections(call.Connection, ct);
        if (connection is null) return Fail($"connection '{call.Connection}' does not exist.");
        if (OutboundRequests.ResolveUrl(connection, call.Path) is not { } url) return Fail($"'{call.Path}' is not a URL on connection '{connection.Id}'.");
        if (!Origins.Allows(connection, url, call.Callback)) return Fail(Origins.Refusal(connection, url, call.Callback));
        if (call.Headers.FirstOrDefault(h => OutboundRequests.IsReserved(h.Key, connection.Auth)) is { Key: { } reserved })
            return Fail($"the step may not set the header '{reserved}'.");
        if (call.Headers.FirstOrDefault(h => h.Value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0) is { Key: { } broken })
            return Fail($"the value of header '{broken}' holds a line break or NUL.");

        var sent = OutboundRequests.Describe(run.Id, stepId, attempt, call, connection, url, Now);
        Answer? answer;
        try
        {
            answer = await answerer.AnswerAsync(new CallRequest(sent, call, connection), ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            events.Add(sent);
            return Fail($"the call could not be made: {ex.Message}");
        }
        events.Add(sent);
        if (answer is null) return (events, new Next.Halted($"Step '{stepId}': no answer to this call was recorded, so what follows cannot be known."));

        if (answer.Recorded is not null) events.Add(answer.Recorded);
        var outcome = answer.Outcome;
        if (outcome.Succeeded)
        {
            if (answer.Output.ValueKind != JsonValueKind.Undefined &&
                System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(answer.Output).Length > Limits.MaxStepOutputBytes)
                return Fail(TooLarge);
            events.Add(new StepCompleted(run.Id, stepId, answer.Output, Now, stepType));
            return (events, null);
        }
        var what = outcome.Error ?? $"{call.Method} {sent.Url} answered {outcome.Status}";
        if (!outcome.Transient) return Fail(outcome.Error ?? $"{what}, which is not worth retrying.");

        var policy = scope.Recipe.Retry;
        if (RetrySchedule.For(policy).DelayBefore(attempt + 1, outcome.RetryAfter, _random()) is { } wait)
        {
            events.Add(new RetryScheduled(run.Id, stepId, attempt + 1, Now + wait, what.TrimEnd('.') + ".", Now));
            return (events, new Next.RetryAfter(attempt + 1, wait, Callback: false));
        }
        events.Add(new RunDeadLettered(run.Id, stepId, attempt, $"Step '{stepId}' failed {attempt} time(s); last: {what.TrimEnd('.')}.", Now));
        return (events, null);
    }

    /// The step's plan, or why there is none: a template or limit error, or any other defect in interpreting it.
    private (StepPlan? Plan, string? Defect) Render(Run run, RunScope scope, StepDefinition step, TransformBudget budget)
    {
        try
        {
            var context = RunContext.Build(run.Id, scope.TenantId, run.RecipeKey, run.RecipeVersion, scope.Input, run.CompletedSteps);
            return (StepInterpreter.Plan(step, context, budget), null);
        }
        catch (TransformException ex)
        {
            return (null, $"Step '{step.Id}': {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return (null, $"Step '{step.Id}' could not be interpreted: {ex.Message}");
        }
    }

    private JsonObject CallbackBody(Run run, RunScope scope, CallbackDefinition callback, bool success)
    {
        if (!success)
            return new JsonObject { ["outcome"] = "failure", ["rejectedReason"] = run.Reason ?? "The integration failed." };

        var body = new JsonObject { ["outcome"] = "success" };
        if (callback.CustomData is { } template)
        {
            var context = RunContext.Build(run.Id, scope.TenantId, run.RecipeKey, run.RecipeVersion, scope.Input, run.CompletedSteps);
            context["output"] = run.LastOutput is { } output ? Platform.JsonText.Node(output) : null;
            body["customData"] = Templates.RenderJson(template, context, new TransformBudget(Limits.Transforms));
        }
        return body;
    }

    private string TooLarge => $"its output is larger than {Limits.MaxStepOutputBytes:N0} bytes (limit Enate:Limits:MaxStepOutputBytes).";

    private DateTimeOffset Now => clock.GetUtcNow();
}

public static class CallbackModes
{
    public const string None = "none";
    public const string CallEnate = "callEnate";
}
