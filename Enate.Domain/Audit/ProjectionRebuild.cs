namespace Enate.Domain.Audit;

public static class RebuildStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    /// Still "running" but not heard of for a while: the process that ran it stopped.
    public const string Abandoned = "abandoned";
}

/// Progress of one rebuild of the read models, saved as it goes so any API replica can report it. A rebuild
/// covers every tenant's read models (the event store is shared), so the document is the platform's; it
/// records which tenant's key asked, and only that tenant may read it.
public sealed class ProjectionRebuild
{
    public Guid Id { get; set; }
    public string Status { get; set; } = RebuildStatus.Running;
    public List<string> Projections { get; set; } = [];
    /// Events read so far; every read model is projected from each stream's events in one pass over the log.
    public long EventsProcessed { get; set; }
    /// The events in the log when the rebuild started.
    public long Total { get; set; }
    /// Streams appended to while the rebuild ran, whose read models were then projected again from their events.
    public int StreamsCaughtUp { get; set; }
    /// Read-model documents that no stream's events produce (written out of band), deleted at the end.
    public long OrphansDeleted { get; set; }
    public string TenantId { get; set; } = "";
    public string RequestedBy { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Error { get; set; }
}
