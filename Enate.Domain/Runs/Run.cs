using System.Text.Json;

namespace Enate.Domain.Runs;

/// The write model of a run: what the engine needs to decide the next step, rebuilt from the stream.
public sealed class Run
{
    /// The step id under which the Enate action callback's attempts are recorded.
    public const string CallbackStep = "enate-callback";

    public Guid Id { get; private set; }
    public string RecipeKey { get; private set; } = "";
    public int RecipeVersion { get; private set; }
    public string? RecipeSha256 { get; private set; }
    public string Trigger { get; private set; } = "";
    /// The input as its RunRequested holds it: read it through RunInputs, which knows when it is in the inbound record.
    public JsonElement Input { get; private set; }
    public Guid? InboundId { get; private set; }
    public bool InputInInbound { get; private set; }
    public string Status { get; private set; } = RunStatus.Requested;
    /// Why the run ended, when it did not succeed.
    public string? Reason { get; private set; }
    public bool Started { get; private set; }
    public Dictionary<string, JsonElement> CompletedSteps { get; private set; } = [];
    public Dictionary<string, int> StepAttempts { get; private set; } = [];
    /// The attempt a scheduled retry will run; other deliveries of ContinueRun are stale.
    public int? PendingAttempt { get; private set; }
    public JsonElement? LastOutput { get; private set; }
    public bool CallbackDone { get; private set; }
    /// The attempt of the Enate callback a scheduled retry will make; other deliveries are stale.
    public int? PendingCallbackAttempt { get; private set; }
    public long Version { get; set; }

    public bool IsFinished => RunStatus.IsFinished(Status);

    public int AttemptsOf(string stepId) => StepAttempts.GetValueOrDefault(stepId);

    public static Run Create(RunRequested e) => new()
    {
        Id = e.RunId,
        RecipeKey = e.RecipeKey,
        RecipeVersion = e.RecipeVersion,
        RecipeSha256 = e.RecipeSha256,
        Trigger = e.Trigger,
        Input = e.Input,
        InboundId = e.InboundId,
        InputInInbound = e.InputInInbound,
    };

    public void Apply(RunStarted e)
    {
        Started = true;
        if (!IsFinished) Status = RunStatus.Running;
    }

    /// In streams that hold it; the engine records a step's attempt with its call (OutboundRequestSent).
    public void Apply(StepStarted e) => Attempt(e.StepId, e.Attempt);

    public void Apply(StepCompleted e)
    {
        CompletedSteps[e.StepId] = e.Output;
        LastOutput = e.Output;
    }

    /// A finished run's status never moves back: a retry of its callback is recorded without changing its outcome.
    public void Apply(RetryScheduled e)
    {
        if (e.StepId == CallbackStep && IsFinished)
        {
            PendingCallbackAttempt = e.NextAttempt;
            return;
        }
        if (IsFinished) return;
        Status = RunStatus.Waiting;
        PendingAttempt = e.NextAttempt;
    }

    public void Apply(OutboundRequestSent e)
    {
        if (e.StepId == CallbackStep) PendingCallbackAttempt = null;
        else Attempt(e.StepId, e.Attempt);
    }

    /// Attempt `attempt` of a step has begun: a retry waited for is no longer pending.
    private void Attempt(string stepId, int attempt)
    {
        StepAttempts[stepId] = attempt;
        if (IsFinished) return;
        Status = RunStatus.Running;
        PendingAttempt = null;
    }

    public void Apply(RunSucceeded _) => Finish(RunStatus.Succeeded, null);
    public void Apply(RunSkipped e) => Finish(RunStatus.Skipped, null);
    public void Apply(RunFailed e) => Finish(RunStatus.Failed, e.Reason);
    public void Apply(RunDeadLettered e) => Finish(RunStatus.DeadLettered, e.Reason);
    public void Apply(EnateCallbackSent _) => CallbackDone = true;
    public void Apply(EnateCallbackFailed _) => CallbackDone = true;

    private void Finish(string status, string? reason)
    {
        if (IsFinished) return;
        Status = status;
        Reason = reason;
        PendingAttempt = null;
    }

    /// Applies any event of a run, as the engine records it (not named Apply or Evolve: Marten would take it for its own).
    public void Take(object @event)
    {
        switch (@event)
        {
            case RunStarted e: Apply(e); break;
            case StepStarted e: Apply(e); break;
            case StepCompleted e: Apply(e); break;
            case RetryScheduled e: Apply(e); break;
            case OutboundRequestSent e: Apply(e); break;
            case RunSucceeded e: Apply(e); break;
            case RunSkipped e: Apply(e); break;
            case RunFailed e: Apply(e); break;
            case RunDeadLettered e: Apply(e); break;
            case EnateCallbackSent e: Apply(e); break;
            case EnateCallbackFailed e: Apply(e); break;
        }
    }
}
