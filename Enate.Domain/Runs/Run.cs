using System.Text.Json;

namespace Enate.Domain.Runs;

/// The write model of a run: what the engine needs to decide the next step, rebuilt from the stream.
public sealed class Run
{
    public Guid Id { get; private set; }
    public string RecipeKey { get; private set; } = "";
    public int RecipeVersion { get; private set; }
    public JsonElement Input { get; private set; }
    public string Status { get; private set; } = RunStatus.Requested;
    public int Attempts { get; private set; }
    public Dictionary<string, JsonElement> CompletedSteps { get; } = [];
    public long Version { get; set; }

    public bool IsFinished => RunStatus.IsFinished(Status);

    public static Run Create(RunRequested e) => new()
    {
        Id = e.RunId,
        RecipeKey = e.RecipeKey,
        RecipeVersion = e.RecipeVersion,
        Input = e.Input,
    };

    public void Apply(RunStarted e)
    {
        Status = RunStatus.Running;
        Attempts = Math.Max(Attempts, e.Attempt);
    }

    public void Apply(StepCompleted e) => CompletedSteps[e.StepId] = e.Output;
    public void Apply(RetryScheduled _) => Status = RunStatus.Waiting;
    public void Apply(RunSucceeded _) => Status = RunStatus.Succeeded;
    public void Apply(RunSkipped _) => Status = RunStatus.Skipped;
    public void Apply(RunFailed _) => Status = RunStatus.Failed;
    public void Apply(RunDeadLettered _) => Status = RunStatus.DeadLettered;
}
