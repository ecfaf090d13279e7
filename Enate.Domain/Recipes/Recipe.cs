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
    public List<string> Connections { get; set; } = [];
    public List<RecipeVersionInfo> Versions { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }
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
