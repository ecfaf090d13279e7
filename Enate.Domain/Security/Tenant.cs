namespace Enate.Domain.Security;

/// A tenant: a customer of the platform with its own recipes, connections, runs, record and keys (document id = the
/// tenant id, as keys and every tenant's documents name it). Created by the platform operator; a disabled tenant's
/// keys and deliveries are refused until it is enabled again, and nothing of it is deleted.
public sealed class Tenant
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? DisabledAt { get; set; }

    public bool Disabled => DisabledAt is not null;
}
