using System.Text.Json;

namespace Enate.Domain.Runs;

/// The write model of a run: what the engine needs to decide the next step, rebuilt from the stream.
public sealed class Run
{
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
    public bool Started { get; private set; }
    public int Attempts { get; private set; }
    public Dictionary<string, JsonElement> CompletedSteps { get; private set; } = [];
    public Dictionary<string, int> StepAttempts { get; private set; } = [];
    /// The attempt a scheduled retry will run; other deliveries of ExecuteRun are stale.
    public int? PendingAttempt { get; private set; }
    public JsonElement? LastOutput { get; private set; }
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
        Status = RunStatus.Running;
    }

    public void Apply(StepStarted e)
    {
        Status = RunStatus.Running;
        StepAttempts[e.StepId] = e.Attempt;
        Attempts = Math.Max(Attempts, e.Attempt);
        PendingAttempt = null;
    }

    public void Apply(StepCompleted e)
    {
        CompletedSteps[e.StepId] = e.Output;
        LastOutput = e.Output;
    }

    public void Apply(RetryScheduled e)
    {
        Status = RunStatus.Waiting;
        PendingAttempt = e.NextAttempt;
    }

    public void Apply(RunSucceeded _) => Status = RunStatus.Succeeded;
    public void Apply(RunSkipped _) => Status = RunStatus.Skipped;
    public void Apply(RunFailed _) => Status = RunStatus.Failed;
    public void Apply(RunDeadLettered _) => Status = RunStatus.DeadLettered;
    public bool CallbackDone { get; private set; }
    public void Apply(EnateCallbackSent _) => CallbackDone = true;
    public void Apply(EnateCallbackFailed _) => CallbackDone = true;
}
