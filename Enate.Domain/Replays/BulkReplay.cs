using Marten.Schema;

namespace Enate.Domain.Replays;

public sealed record ReplayFilter(string? Recipe, string? Status, DateTimeOffset? From, DateTimeOffset? To);

/// A run the job did not replay, and why (its recipe lacks the version asked for, say).
public sealed record ReplayNotStarted(Guid RunId, string Reason);

public sealed record ReplayedRun(Guid Of, Guid RunId);

/// Advance a bulk replay: start what the in-flight limit allows and look again later. Durable, so a
/// Workers restart resumes the job where the last committed step left it.
public sealed record AdvanceReplay(Guid ReplayId, string TenantId);

public static class BulkReplayStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
}

/// A bulk replay as a background job: the runs selected when it was asked (a snapshot, so the replays it
/// starts never feed back into it), how far it got, and which replays are still in flight. Each step of
/// the job commits its cursor with the runs it started, in one transaction.
[UseOptimisticConcurrency]
public sealed class BulkReplay
{
    public const int MaxRuns = 10_000;
    public const int MaxConcurrency = 20;

    public Guid Id { get; set; }
    public ReplayFilter Filter { get; set; } = new(null, null, null, null);
    public string RecipeVersion { get; set; } = ReplayVersion.Original;
    public string Reason { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// At most this many replays of the job are unfinished at once, so live traffic is not starved.
    public int Concurrency { get; set; } = MaxConcurrency;
    public string Status { get; set; } = BulkReplayStatus.Running;
    public List<Guid> RunIds { get; set; } = [];
    /// How many of RunIds have been handled (started or not started).
    public int Cursor { get; set; }
    public List<ReplayedRun> Started { get; set; } = [];
    public List<Guid> InFlight { get; set; } = [];
    public List<ReplayNotStarted> NotStarted { get; set; } = [];
    public DateTimeOffset? FinishedAt { get; set; }
    public string? CancelledBy { get; set; }

    /// Marten's version of the stored document: a save from a stale copy fails instead of overwriting.
    [Version]
    public Guid Version { get; set; }
}
