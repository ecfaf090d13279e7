using System.Text.Json;
using System.Text.Json.Serialization;
using Marten;
using Marten.Events.Aggregation;

namespace Enate.Domain.Runs;

public static class RunStatus
{
    public const string Requested = "requested";
    public const string Running = "running";
    public const string Waiting = "waiting";
    public const string Succeeded = "succeeded";
    public const string Skipped = "skipped";
    public const string Failed = "failed";
    public const string DeadLettered = "deadLettered";

    public static readonly string[] All = [Requested, Running, Waiting, Succeeded, Skipped, Failed, DeadLettered];

    public static bool IsFinished(string status) => status is Succeeded or Skipped or Failed or DeadLettered;
}

/// The read model behind GET /api/v1/runs: one row a run, built from its events only.
public sealed class RunSummary
{
    public Guid Id { get; set; }
    public string RecipeKey { get; set; } = "";
    public int RecipeVersion { get; set; }
    public string Trigger { get; set; } = "";
    public string Status { get; set; } = RunStatus.Requested;
    public string? WorkItem { get; set; }
    /// Not kept in the stored document: the run's RunRequested event holds it, and the readers that show or use it
    /// fill it in from there (`RunSummaryProjection.WithInputsAsync`), so a webhook's body is written once less.
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public JsonElement Input { get; set; }
    public JsonElement? Output { get; set; }
    public string? Reason { get; set; }
    public string? CurrentStep { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public Guid? ReplayOf { get; set; }
    public Guid? InboundId { get; set; }
    /// For Enate actions with callback mode callEnate: whether Enate was told the outcome.
    public string? Callback { get; set; }
    public List<Guid> ReplayedBy { get; set; } = [];
    public long Version { get; set; }
}

public sealed class RunSummaryProjection : SingleStreamProjection<RunSummary, Guid>
{
    /// Fills in the runs' inputs from their first events (RunRequested), one query for them all.
    public static async Task<IReadOnlyList<RunSummary>> WithInputsAsync(IQuerySession session, IReadOnlyList<RunSummary> runs, CancellationToken ct)
    {
        if (runs.Count == 0) return runs;
        var first = await StreamReads.FirstEventsAsync(session, runs.Select(r => r.Id), ct);
        var inputs = await RunInputs.OfAsync(session, first.Select(e => e.Data).OfType<RunRequested>().ToList(), ct);
        foreach (var run in runs)
            if (inputs.TryGetValue(run.Id, out var input)) run.Input = input;
        return runs;
    }

    public static RunSummary Create(RunRequested e) => new()
    {
        Id = e.RunId,
        RecipeKey = e.RecipeKey,
        RecipeVersion = e.RecipeVersion,
        Trigger = e.Trigger,
        WorkItem = e.WorkItem,
        ReplayOf = e.ReplayOf,
        RequestedAt = e.RequestedAt,
        InboundId = e.InboundId,
    };

    public static void Apply(RunStarted e, RunSummary run)
    {
        if (RunStatus.IsFinished(run.Status)) return;
        run.Status = RunStatus.Running;
        run.StartedAt ??= e.StartedAt;
        run.NextAttemptAt = null;
    }

    /// In streams that hold it; the engine names a step with its first event (below).
    public static void Apply(StepStarted e, RunSummary run) => Reached(run, e.StepId, e.Attempt);

    /// A call of a step: the run's callback is shown on `callback` alone.
    public static void Apply(OutboundRequestSent e, RunSummary run)
    {
        if (e.StepId != Run.CallbackStep) Reached(run, e.StepId, e.Attempt);
    }

    public static void Apply(StepCompleted e, RunSummary run) => Reached(run, e.StepId, attempt: 1);

    /// The run is at this step, in this attempt (or a later one it has already reached).
    private static void Reached(RunSummary run, string stepId, int attempt)
    {
        if (RunStatus.IsFinished(run.Status)) return;
        run.Status = RunStatus.Running;
        run.CurrentStep = stepId;
        run.Attempts = Math.Max(run.Attempts, attempt);
    }

    /// A finished run's outcome never changes: a retry of its Enate callback shows on the callback alone.
    public static void Apply(RetryScheduled e, RunSummary run)
    {
        if (RunStatus.IsFinished(run.Status))
        {
            if (e.StepId == Run.CallbackStep) run.Callback = $"retrying (attempt {e.NextAttempt} at {e.DueAt:O}): {e.Reason}";
            return;
        }
        run.Status = RunStatus.Waiting;
        run.NextAttemptAt = e.DueAt;
        run.Reason = e.Reason;
    }

    /// The old run's side of a replay's link; the new run's side is RunRequested.ReplayOf.

    public static void Apply(RunSucceeded e, RunSummary run) => Finish(run, RunStatus.Succeeded, e.SucceededAt, null, e.Output);
    public static void Apply(RunSkipped e, RunSummary run) => Finish(run, RunStatus.Skipped, e.SkippedAt, e.Reason, null, e.StepId);
    public static void Apply(RunFailed e, RunSummary run) => Finish(run, RunStatus.Failed, e.FailedAt, e.Reason, null, e.StepId);
    public static void Apply(RunReplayed e, RunSummary run) => run.ReplayedBy.Add(e.NewRunId);
    public static void Apply(EnateCallbackSent e, RunSummary run) => run.Callback = $"sent ({e.Outcome})";
    public static void Apply(EnateCallbackFailed e, RunSummary run) => run.Callback = $"failed ({e.Outcome}): {e.Reason}";
    public static void Apply(RunDeadLettered e, RunSummary run) => Finish(run, RunStatus.DeadLettered, e.DeadLetteredAt, e.Reason, null, e.StepId);

    /// A run that ends at a step (a filter's skip, a step that could not be rendered) may have recorded nothing else
    /// of that step: its end names it.
    private static void Finish(RunSummary run, string status, DateTimeOffset at, string? reason, JsonElement? output, string? stepId = null)
    {
        if (stepId is not null) Reached(run, stepId, attempt: 1);
        if (RunStatus.IsFinished(run.Status)) return;
        run.Status = status;
        run.FinishedAt = at;
        run.Reason = reason;
        run.Output = output;
        run.NextAttemptAt = null;
    }
}
