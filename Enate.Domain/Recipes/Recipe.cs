using Marten.Schema;

namespace Enate.Domain.Recipes;

/// A recipe's identity and state across versions (document id = key). Writes are checked against the revision they
/// read, so two changes at once cannot silently undo each other.
[UseOptimisticConcurrency]
public sealed class Recipe
{
    public string Id { get; set; } = "";
    /// Changes on every write of the document (a new version, activation): the recipe's ETag.
    [Version]
    public Guid Revision { get; set; }
    public string Name { get; set; } = "";
    public bool Active { get; set; } = true;
    public int LatestVersion { get; set; }
    public string TriggerType { get; set; } = "";
    public string? TriggerWebhook { get; set; }
    /// The latest version's schedule, for a schedule trigger.
    public RecipeSchedule? Schedule { get; set; }
    /// When the schedule began to count: its first save, a change of its cron, time zone or policy, or an activation.
    /// Occurrences before it are neither run nor missed.
    public DateTimeOffset? ScheduledSince { get; set; }
    public List<string> Connections { get; set; } = [];
    public List<RecipeVersionInfo> Versions { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }
    /// The tenant the recipe belongs to, filled in from Marten's tenant column when read.
    public string? Tenant { get; set; }
}

public sealed record RecipeVersionInfo(int Version, string Sha256, DateTimeOffset CreatedAt, string CreatedBy);

/// One immutable version of a recipe (document id = "key:version").
public sealed class RecipeVersion
{
    public string Id { get; set; } = "";
    public string Key { get; set; } = "";
    public int Version { get; set; }
    public RecipeDefinition Definition { get; set; } = null!;
    public string Sha256 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    public static string IdFor(string key, int version) => $"{key}:{version}";
}
