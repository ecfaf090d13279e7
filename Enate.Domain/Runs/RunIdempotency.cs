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

/// How long an Idempotency-Key is remembered (`Enate:Idempotency:KeepFor`, 24 hours). Within it a repeat answers as
/// the first request did; after it the key is free and starts a new run. The Workers delete expired keys.
public sealed record IdempotencyWindow(TimeSpan KeepFor)
{
    public const string Setting = "Enate:Idempotency:KeepFor";
    public static readonly TimeSpan Default = TimeSpan.FromHours(24);

    public DateTimeOffset Cutoff(DateTimeOffset now) => now - KeepFor;

    public bool Holds(RunIdempotency key, DateTimeOffset now) => key.CreatedAt > Cutoff(now);
}
