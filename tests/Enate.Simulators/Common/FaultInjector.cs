namespace Enate.Simulators.Common;

/// Body of PUT /_sim/{app}/faults. Every field is optional; the last PUT replaces the previous settings.
public sealed record FaultSettings(
    int? LatencyMs = null,
    double? ErrorRate = null,
    int? Status = null,
    int? RetryAfterSeconds = null,
    int? DownForSeconds = null)
{
    public IEnumerable<string> Problems()
    {
        if (LatencyMs is < 0 or > 120_000) yield return "latencyMs must be between 0 and 120000.";
        if (ErrorRate is < 0 or > 1) yield return "errorRate must be between 0 and 1.";
        if (Status is < 100 or > 599) yield return "status must be an HTTP status code (100-599).";
        if (RetryAfterSeconds is < 0) yield return "retryAfterSeconds must not be negative.";
        if (DownForSeconds is < 0) yield return "downForSeconds must not be negative.";
    }
}

/// What a request meets before it reaches the app: a delay, and perhaps an error status instead of an answer.
public readonly record struct Fault(TimeSpan Delay, int? Status, int? RetryAfterSeconds);

public sealed class FaultInjector
{
    private readonly Lock _lock = new();
    private FaultSettings _settings = new();
    private DateTimeOffset? _downUntil;

    public void Set(FaultSettings settings, DateTimeOffset now)
    {
        lock (_lock)
        {
            _settings = settings;
            _downUntil = settings.DownForSeconds is > 0 ? now.AddSeconds(settings.DownForSeconds.Value) : null;
        }
    }

    public void Clear() => Set(new FaultSettings(), DateTimeOffset.MinValue);

    public object Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            return new
            {
                _settings.LatencyMs,
                _settings.ErrorRate,
                _settings.Status,
                _settings.RetryAfterSeconds,
                downUntil = _downUntil > now ? _downUntil : null,
            };
        }
    }

    public Fault Decide(DateTimeOffset now)
    {
        FaultSettings settings;
        DateTimeOffset? downUntil;
        lock (_lock) (settings, downUntil) = (_settings, _downUntil);

        var delay = TimeSpan.FromMilliseconds(settings.LatencyMs ?? 0);
        int? status = downUntil > now ? StatusCodes.Status503ServiceUnavailable
            : settings.Status is { } fixedStatus ? fixedStatus
            : settings.ErrorRate is > 0 && Random.Shared.NextDouble() < settings.ErrorRate ? StatusCodes.Status500InternalServerError
            : null;
        return new Fault(delay, status, status is null ? null : settings.RetryAfterSeconds);
    }
}
