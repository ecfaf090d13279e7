using Marten.Schema;

namespace Enate.Domain.Replays;

/// Compare the next runs of a what-if job: sent by the API when the job is asked for, then by the Workers to
/// themselves until every run is compared. Durable, so a restart resumes after the last committed batch.
public sealed record CompareRuns(Guid WhatIfId, string TenantId);

public static class WhatIfJobStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
}

/// A what-if over many runs, done in the Workers instead of holding an API request: the runs selected when it was
/// asked (a snapshot), how many are compared, and the comparisons so far.
[UseOptimisticConcurrency]
public sealed class WhatIfJob
{
    public const int Batch = 20;

    public Guid Id { get; set; }
    public string Key { get; set; } = "";
    public int Version { get; set; }
    public WhatIfFilter Filter { get; set; } = new(null, null, null);
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string Status { get; set; } = WhatIfJobStatus.Running;
    public List<Guid> RunIds { get; set; } = [];
    public List<WhatIfRun> Runs { get; set; } = [];
    public DateTimeOffset? FinishedAt { get; set; }

    [Version]
    public Guid Revision { get; set; }
}
