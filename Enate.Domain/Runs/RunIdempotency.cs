namespace Enate.Domain.Runs;

/// Remembers which run a trigger's idempotency key started (document id = "recipeKey:key"), and with what body.
public sealed class RunIdempotency
{
    public string Id { get; set; } = "";
    public Guid RunId { get; set; }
    public string BodySha256 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static string IdFor(string recipeKey, string key) => $"{recipeKey}:{key}";
}
