using Enate.Domain.Recipes;

namespace Enate.Domain.Tests.Recipes;

public sealed class when_a_schedule_is_read
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    private static DateTimeOffset Utc(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void nothing_is_due_before_the_first_occurrence_after_it_began()
    {
        var nine = new RecipeSchedule("0 9 * * *", "UTC", MissedPolicies.Skip);
        Assert.Null(Occurrences.Due(nine, Utc("2026-12-02T09:30:00Z"), Utc("2026-12-03T08:59:59Z"), Grace));
        Assert.Null(Occurrences.Due(nine, Utc("2026-12-02T09:00:00Z"), Utc("2026-12-02T09:00:00Z"), Grace));
        var due = Occurrences.Due(nine, Utc("2026-12-02T09:30:00Z"), Utc("2026-12-03T09:00:00.200Z"), Grace);
        Assert.Equal(new DueOccurrence(Utc("2026-12-03T09:00:00Z"), Fire: true, Missed: 0), due);
    }

    [Fact]
    public void six_fields_count_seconds()
    {
        var everyTen = new RecipeSchedule("*/10 * * * * *", "UTC", MissedPolicies.Skip);
        var due = Occurrences.Due(everyTen, Utc("2026-12-02T10:00:00Z"), Utc("2026-12-02T10:00:10.5Z"), Grace);
        Assert.Equal(Utc("2026-12-02T10:00:10Z"), due!.Occurrence);
        Assert.Equal(0, due.Missed);
        // Two occurrences since the last one fired, both on time: the latest runs, the one before it is missed.
        due = Occurrences.Due(everyTen, Utc("2026-12-02T10:00:10Z"), Utc("2026-12-02T10:00:30.5Z"), Grace);
        Assert.Equal(new DueOccurrence(Utc("2026-12-02T10:00:30Z"), true, 1), due);
    }

    [Fact]
    public void the_time_zone_decides_when_a_local_time_is_across_summer_time()
    {
        var london = new RecipeSchedule("0 9 * * *", "Europe/London", MissedPolicies.Skip);
        // 09:00 in London is 09:00 UTC in winter and 08:00 UTC in summer.
        Assert.Equal(Utc("2026-12-02T09:00:00Z"), Occurrences.Due(london, Utc("2026-12-01T12:00:00Z"), Utc("2026-12-02T09:00:01Z"), Grace)!.Occurrence);
        Assert.Equal(Utc("2026-07-01T08:00:00Z"), Occurrences.Due(london, Utc("2026-06-30T12:00:00Z"), Utc("2026-07-01T08:00:01Z"), Grace)!.Occurrence);
        // 01:30 does not exist on the last Sunday of March in London; Cronos runs it when the clock jumps (02:00 BST).
        var night = london with { Cron = "30 1 * * *" };
        Assert.Equal(Utc("2026-03-29T01:00:00Z"), Occurrences.Due(night, Utc("2026-03-28T12:00:00Z"), Utc("2026-03-29T01:00:01Z"), Grace)!.Occurrence);
    }

    [Fact]
    public void late_occurrences_are_missed_under_skip_and_the_latest_runs_under_run_once()
    {
        var hourly = new RecipeSchedule("0 * * * *", "UTC", MissedPolicies.Skip);
        var since = Utc("2026-12-02T00:00:00Z");
        var now = Utc("2026-12-02T05:10:00Z");
        Assert.Equal(new DueOccurrence(Utc("2026-12-02T05:00:00Z"), Fire: false, Missed: 5), Occurrences.Due(hourly, since, now, Grace));
        Assert.Equal(new DueOccurrence(Utc("2026-12-02T05:00:00Z"), Fire: true, Missed: 4),
            Occurrences.Due(hourly with { Missed = MissedPolicies.RunOnce }, since, now, Grace));
        // Found within the grace, the latest is on time under either policy.
        Assert.True(Occurrences.Due(hourly, since, Utc("2026-12-02T05:00:30Z"), Grace)!.Fire);
    }

    [Fact]
    public void missed_occurrences_are_counted_over_a_week_at_most()
    {
        var everySecond = new RecipeSchedule("* * * * * *", "UTC", MissedPolicies.RunOnce);
        var due = Occurrences.Due(everySecond, Utc("2025-01-01T00:00:00Z"), Utc("2026-12-02T00:00:00Z"), Grace);
        Assert.Equal((int)Occurrences.CountBack.TotalSeconds - 1, due!.Missed);
    }

    [Theory]
    [InlineData("0 9 * * *", null, null, 0)]
    [InlineData("*/10 * * * * *", "Europe/London", "runOnce", 0)]
    [InlineData("0 9 * *", null, null, 1)]
    [InlineData("0 9 * * * * *", null, null, 1)]
    [InlineData("0 25 * * *", null, null, 1)]
    [InlineData("0 9 * * *", "Nowhere/Special", "later", 2)]
    public void a_schedule_is_checked_field_by_field(string cron, string? zone, string? missed, int problems)
    {
        var trigger = new TriggerDefinition { Type = TriggerTypes.Schedule, Cron = cron, TimeZone = zone, Missed = missed };
        Assert.Equal(problems, Occurrences.Problems(trigger).Count());
    }

    [Fact]
    public void the_delivery_key_names_the_recipe_and_the_occurrence_to_the_second()
    {
        Assert.Equal("schedule:nightly:2026-12-02T09:00:00Z",
            Occurrences.DeliveryKeyOf("nightly", new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.FromHours(1))));
    }
}
