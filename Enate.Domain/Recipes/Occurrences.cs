using System.Collections.Concurrent;
using System.Text.Json;
using Cronos;

namespace Enate.Domain.Recipes;

/// What a schedule does with occurrences found late, after the Workers were down.
public static class MissedPolicies
{
    /// Late occurrences are not run; the next one on time is.
    public const string Skip = "skip";
    /// The latest late occurrence is run once, telling how many it stands for.
    public const string RunOnce = "runOnce";
    public static readonly string[] All = [Skip, RunOnce];
}

/// A recipe's schedule as the Workers read it: kept on the recipe document, so a round reads no versions.
public sealed record RecipeSchedule(string Cron, string TimeZone, string Missed)
{
    public static RecipeSchedule? Of(TriggerDefinition trigger) => trigger.Type == TriggerTypes.Schedule && trigger.Cron is { } cron
        ? new RecipeSchedule(cron.Trim(), trigger.TimeZone ?? "UTC", trigger.Missed ?? MissedPolicies.Skip)
        : null;
}

/// Where a recipe's schedule stands (document id = recipe key): the last occurrence it fired or passed over. Written in
/// the transaction that starts the occurrence's run, so it moves exactly as the runs do.
public sealed class ScheduleMark
{
    public string Id { get; set; } = "";
    public DateTimeOffset Occurrence { get; set; }
    public Guid? RunId { get; set; }
}

/// One occurrence to act on: fire it (a run) or only move the mark past the ones missed.
public sealed record DueOccurrence(DateTimeOffset Occurrence, bool Fire, int Missed);

/// Cron schedules: parsing, and which occurrence is due. Exactly-once firing across replicas is not decided here but by
/// the database: each occurrence's inbound record carries a delivery key unique per tenant (DeliveryKeyOf).
public static class Occurrences
{
    /// An occurrence found later than this after it was due counts as missed (default of `Enate:Workers:ScheduleGrace`).
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromMinutes(1);
    /// How far back a round counts missed occurrences: an every-second schedule down for a year is not counted one by one.
    public static readonly TimeSpan CountBack = TimeSpan.FromDays(7);

    private static readonly ConcurrentDictionary<string, CronExpression?> Parsed = new();

    /// The expression, or null when it is not a cron of five or six fields.
    public static CronExpression? Parse(string cron) => Parsed.GetOrAdd(cron, static text =>
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var format = fields switch { 5 => CronFormat.Standard, 6 => CronFormat.IncludeSeconds, _ => (CronFormat?)null };
        return format is { } f && CronExpression.TryParse(text, f, out var expression) ? expression : null;
    });

    /// The zone, or null when it is not one this machine knows (IANA names, and Windows names where mapped).
    public static TimeZoneInfo? Zone(string name)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// Why the trigger's schedule cannot run, by JSON path; empty when it can.
    public static IEnumerable<(string Path, string Message)> Problems(TriggerDefinition trigger)
    {
        if (trigger.Type != TriggerTypes.Schedule)
        {
            if (trigger.Cron is not null) yield return ("$.trigger.cron", "applies to schedule triggers only.");
            yield break;
        }
        if (string.IsNullOrWhiteSpace(trigger.Cron)) yield return ("$.trigger.cron", "is required for a schedule.");
        else if (Parse(trigger.Cron.Trim()) is null)
            yield return ("$.trigger.cron", "must be a cron expression of five fields (minute hour day month weekday) or six (seconds first).");
        if (trigger.TimeZone is { } zone && Zone(zone) is null)
            yield return ("$.trigger.timeZone", $"'{zone}' is not a known time zone: use an IANA name such as Europe/London.");
        if (trigger.Missed is { } missed && !MissedPolicies.All.Contains(missed))
            yield return ("$.trigger.missed", $"must be one of {string.Join(", ", MissedPolicies.All)}.");
    }

    /// What is due at `now` for a schedule whose occurrences count after `since` (the later of its last firing and
    /// the moment it began: saved, changed, activated). At most one occurrence a round: the latest one due. It fires
    /// when it is on time (found within `grace`), or late under runOnce; the ones before it since `since` are missed.
    public static DueOccurrence? Due(RecipeSchedule schedule, DateTimeOffset since, DateTimeOffset now, TimeSpan grace)
    {
        if (Parse(schedule.Cron) is not { } cron || Zone(schedule.TimeZone) is not { } zone || now <= since) return null;
        // Forward, as the occurrences fall: going backwards, Cronos puts a local time that summer time skips a second
        // before the jump rather than at it.
        var countFrom = since > now - CountBack ? since : now - CountBack;
        DateTimeOffset? found = null;
        var count = 0;
        foreach (var occurrence in cron.GetOccurrences(countFrom, now, zone, fromInclusive: false, toInclusive: true))
        {
            found = occurrence;
            count++;
        }
        // Nothing in the last week, but the schedule began earlier: a rare schedule (monthly, yearly) found late.
        if (found is null && countFrom > since && cron.GetPreviousOccurrence(now, zone, inclusive: true) is { } earlier && earlier > since)
            (found, count) = (earlier, 1);
        if (found is not { } latest) return null;
        var before = count - 1;
        var onTime = now - latest <= grace;
        return onTime || schedule.Missed == MissedPolicies.RunOnce
            ? new DueOccurrence(latest, true, before)
            : new DueOccurrence(latest, false, before + 1);
    }

    /// The delivery key of an occurrence: a second firing of it, by any replica, fails to commit.
    public static string DeliveryKeyOf(string recipeKey, DateTimeOffset occurrence) =>
        $"schedule:{recipeKey}:{occurrence.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";

    /// A scheduled run's input: when it was due and fired, and what it ran.
    public static JsonElement Input(string recipeKey, int version, RecipeSchedule schedule, DueOccurrence due, DateTimeOffset firedAt) =>
        JsonSerializer.SerializeToElement(new
        {
            schedule = new
            {
                occurrence = due.Occurrence.UtcDateTime,
                firedAt = firedAt.UtcDateTime,
                cron = schedule.Cron,
                timeZone = schedule.TimeZone,
                missed = due.Missed,
            },
            recipe = new { key = recipeKey, version },
        });
}
