using Enate.Domain.Runs;
using Marten.Schema;

namespace Enate.Domain.Replays;

public sealed record ReplayFilter(string? Recipe, string? Status, DateTimeOffset? From, DateTimeOffset? To);

/// A run the job did not replay, and why (its recipe lacks the version asked for, say).
public sealed record ReplayNotStarted(Guid RunId, string Reason);

public sealed record ReplayedRun(Guid Of, Guid RunId);

/// Advance a bulk replay: wait for room among its replays, start what the in-flight limit allows, and hand over to the
/// next step. Durable, so a Workers restart resumes the job where the last committed step left it.
public sealed record AdvanceReplay(Guid ReplayId, string TenantId);

public static class BulkReplayStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";
    /// A step of the job failed through every retry: it starts nothing more, and the replays it started finish.
    public const string Failed = "failed";
}

/// A bulk replay as a background job: how far it got through the runs it selected (its ReplaySelection), which of its
/// replays are still in flight, and the outcomes of those that finished. Each step of the job commits its cursor with
/// the runs it started, in one transaction; the document stays the size of the in-flight limit, so saving it each step
/// costs the same at the first run as at the ten-thousandth.
[UseOptimisticConcurrency]
public sealed class BulkReplay
{
    public const int MaxRuns = 10_000;
    public const int MaxConcurrency = 500;
    public const int DefaultConcurrency = 100;

    public Guid Id { get; set; }
    public ReplayFilter Filter { get; set; } = new(null, null, null, null);
    public string RecipeVersion { get; set; } = ReplayVersion.Original;
    public string Reason { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    /// At most this many replays of the job are unfinished at once: a cancel leaves no more than these to finish. Live
    /// traffic is kept safe by the replay queue, which the Workers take from with fewer listeners than the run queue.
    public int Concurrency { get; set; } = DefaultConcurrency;
    public string Status { get; set; } = BulkReplayStatus.Running;
    /// How many runs the job selected.
    public int Total { get; set; }
    /// How many of the selection have been handled (started or not started).
    public int Cursor { get; set; }
    public int StartedCount { get; set; }
    /// The outcomes of the replays that finished while the job looked; those still in flight are counted when read.
    public ReplayOutcomes Outcomes { get; set; } = new();
    public List<Guid> InFlight { get; set; } = [];
    public List<ReplayNotStarted> NotStarted { get; set; } = [];
    public DateTimeOffset? FinishedAt { get; set; }
    public string? CancelledBy { get; set; }
    /// Why the job stopped, when it failed.
    public string? Failure { get; set; }

    /// Marten's version of the stored document: a save from a stale copy fails instead of overwriting.
    [Version]
    public Guid Version { get; set; }

    /// The status of each of these runs that has a summary, by run id: one query.
    public static async Task<Dictionary<Guid, string>> StatusesAsync(Marten.IQuerySession session, IReadOnlyCollection<Guid> runIds,
        CancellationToken ct)
    {
        if (runIds.Count == 0) return [];
        var ids = runIds.ToArray();
        var rows = await Marten.QueryableExtensions.ToListAsync(
            session.Query<RunSummary>().Where(r => ids.Contains(r.Id)).Select(r => new { r.Id, r.Status }), ct);
        return rows.ToDictionary(r => r.Id, r => r.Status);
    }
}

/// How a bulk job's finished replays ended.
public sealed record ReplayOutcomes
{
    public int Succeeded { get; set; }
    public int Failed { get; set; }
    public int Skipped { get; set; }

    /// Counts a replay that finished with this status.
    public void Count(string status)
    {
        switch (status)
        {
            case RunStatus.Succeeded: Succeeded++; break;
            case RunStatus.Failed or RunStatus.DeadLettered: Failed++; break;
            case RunStatus.Skipped: Skipped++; break;
        }
    }
}

/// The runs a bulk replay selected when it was asked (a snapshot, so the replays it starts never feed back into it), in
/// the order it replays them. Written once beside its job, under the job's id.
public sealed class ReplaySelection
{
    public Guid Id { get; set; }
    public List<Guid> RunIds { get; set; } = [];
}
