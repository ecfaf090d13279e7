using Enate.Domain.Recipes;
using Enate.Domain.Engine;

namespace Enate.Domain.Tests.Runs;

public sealed class when_a_call_fails
{
    [Theory]
    [InlineData(null, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(408, true)]
    [InlineData(409, true)]
    [InlineData(425, true)]
    [InlineData(429, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    [InlineData(422, false)]
    public void only_timeouts_server_errors_and_the_retryable_4xx_are_transient(int? status, bool transient) =>
        Assert.Equal(transient, new CallOutcome(status, null, null).Transient);

    [Fact]
    public void the_default_schedule_is_svix_s_and_ends_after_eight_attempts()
    {
        var schedule = RetrySchedule.For(null);
        Assert.Equal(8, schedule.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(5), schedule.DelayBefore(2, null, 0.5));
        Assert.Equal(TimeSpan.FromHours(10), schedule.DelayBefore(8, null, 0.5));
        Assert.Null(schedule.DelayBefore(9, null, 0.5));
    }

    [Fact]
    public void jitter_stays_within_twenty_percent()
    {
        var schedule = RetrySchedule.For(null);
        Assert.Equal(TimeSpan.FromMinutes(4), schedule.DelayBefore(3, null, 0.0));
        Assert.Equal(TimeSpan.FromMinutes(6), schedule.DelayBefore(3, null, 1.0));
    }

    [Fact]
    public void retry_after_is_a_floor_but_never_more_than_a_day()
    {
        var schedule = RetrySchedule.For(new RetryPolicy { Schedule = ["0", "1"], Jitter = 0 });
        Assert.Equal(TimeSpan.FromSeconds(30), schedule.DelayBefore(2, TimeSpan.FromSeconds(30), 0.5));
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.DelayBefore(2, TimeSpan.FromMilliseconds(10), 0.5));
        Assert.Equal(TimeSpan.FromHours(24), schedule.DelayBefore(2, TimeSpan.FromDays(9), 0.5));
    }

    [Theory]
    [InlineData("PT5M", 300)]
    [InlineData("2.5", 2.5)]
    [InlineData("P1D", 86400)]
    public void delays_are_iso_8601_durations_or_seconds(string text, double seconds)
    {
        Assert.True(RetrySchedule.TryParseDelay(text, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(seconds), delay);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5")]
    public void other_delays_are_refused(string text) => Assert.False(RetrySchedule.TryParseDelay(text, out _));
}
