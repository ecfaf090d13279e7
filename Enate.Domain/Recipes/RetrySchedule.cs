using System.Xml;

namespace Enate.Domain.Recipes;

/// When the next attempt of a failed outbound call is due, if any.
public sealed class RetrySchedule
{
    // Svix's published schedule: the delay before each attempt.
    public static readonly TimeSpan[] DefaultDelays =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    public const double DefaultJitter = 0.2;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(24);
    /// The longest delay a schedule may hold; a longer one is refused at save time (and shortened, were one stored).
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(30);

    public RetrySchedule(IReadOnlyList<TimeSpan> delays, double jitter)
    {
        Delays = delays;
        Jitter = jitter;
    }

    public IReadOnlyList<TimeSpan> Delays { get; }
    public double Jitter { get; }
    public int MaxAttempts => Delays.Count;

    public static RetrySchedule For(RetryPolicy? policy) => new(
        policy?.Schedule is { Count: > 0 } schedule ? schedule.Select(ParseDelay).ToArray() : DefaultDelays,
        Math.Clamp(policy?.Jitter ?? DefaultJitter, 0, 0.5));

    /// The delay before attempt number <paramref name="nextAttempt"/> (1-based), or null when attempts are used up.
    public TimeSpan? DelayBefore(int nextAttempt, TimeSpan? retryAfter, double random01)
    {
        if (nextAttempt > MaxAttempts) return null;
        var planned = Delays[nextAttempt - 1];
        var jittered = planned * (1 + Jitter * (2 * random01 - 1));
        // A partner's Retry-After is a floor: never come back sooner than it asked.
        var floor = retryAfter is { } after ? (after > MaxRetryAfter ? MaxRetryAfter : after) : TimeSpan.Zero;
        return jittered > floor ? jittered : floor;
    }

    public static bool TryParseDelay(string text, out TimeSpan delay)
    {
        delay = default;
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds is < 0 or > 1e9 || double.IsNaN(seconds)) return false;
            delay = TimeSpan.FromSeconds(seconds);
            return true;
        }
        try
        {
            delay = XmlConvert.ToTimeSpan(text);
            return delay >= TimeSpan.Zero;
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static TimeSpan ParseDelay(string text) =>
        TryParseDelay(text, out var delay) ? (delay > MaxDelay ? MaxDelay : delay) : throw new FormatException($"'{text}' is not a delay.");
}
