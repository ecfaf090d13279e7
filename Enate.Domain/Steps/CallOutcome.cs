namespace Enate.Domain.Steps;

/// What came back from an outbound call, as the engine needs it to decide.
public sealed record CallOutcome(int? Status, TimeSpan? RetryAfter, string? Error, bool Refused = false)
{
    public bool Succeeded => Status is >= 200 and < 300;

    /// Timeouts, connection errors, 5xx and 408/409/425/429 may pass; any other 4xx will not.
    /// A call the platform itself refused to make (a forbidden address) is not transient either.
    public bool Transient => !Refused && (Status is null or >= 500 or 408 or 409 or 425 or 429);
}
