namespace Enate.Domain.Inbound;

/// The receiving end of a partner webhook for one recipe: `POST /api/v1/hooks/{id}`. Its signing secrets are
/// encrypted at rest; after a rotation the previous secret keeps verifying until it retires (24 h).
public sealed class Hook
{
    public Guid Id { get; set; }
    public string TenantId { get; set; } = "";
    public string RecipeKey { get; set; } = "";
    public List<HookSecret> Secrets { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed record HookSecret(string Protected, DateTimeOffset CreatedAt, DateTimeOffset? RetiresAt);

/// A webhook subscription this platform holds with Enate (`/WebHookSubscription`). Enate authenticates its
/// deliveries with the custom header and value given at subscription; the value is encrypted at rest.
public sealed class EnateSubscription
{
    public Guid Id { get; set; }
    public string TenantId { get; set; } = "";
    public string Connection { get; set; } = "";
    public string Webhook { get; set; } = "";
    public int? FilterObjectType { get; set; }
    public Guid? FilterObjectGuid { get; set; }
    public string HeaderName { get; set; } = "";
    public string HeaderValueProtected { get; set; } = "";
    public string? EnateGuid { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
