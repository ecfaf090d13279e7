namespace Enate.Domain.Engine;

/// What came back from a call, as the engine needs it to decide: success, a failure worth retrying, or one that is not.
public sealed record CallOutcome(int? Status, TimeSpan? RetryAfter, string? Error, bool Permanent = false)
{
    public bool Succeeded => Error is null && Status is >= 200 and < 300;

    /// Timeouts, connection errors, 5xx and 408/409/425/429 may pass; any other 4xx will not, nor will a call the platform
    /// refused to make (a forbidden address or origin), a limit exceeded, or a token endpoint that refused the credentials.
    public bool Transient => !Succeeded && !Permanent && (Status is null or >= 500 or 408 or 409 or 425 or 429);
}
