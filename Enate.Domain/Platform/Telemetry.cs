using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Enate.Domain.Platform;

/// The platform's own metrics and spans (meter and activity source "Enate", exported with the rest over OTLP).
public static class Telemetry
{
    public static readonly Meter Meter = new("Enate");
    public static readonly ActivitySource Source = new("Enate");

    /// Requests to a trigger that were refused, by reason, and whether a record of them was kept.
    public static readonly Counter<long> RejectedRequests = Meter.CreateCounter<long>("enate.inbound.rejected", "{request}",
        "Requests to a trigger that were refused.");

    /// Runs the sweeper found unfinished with nothing scheduled to move them on.
    public static readonly Counter<long> StuckRuns = Meter.CreateCounter<long>("enate.runs.stuck", "{run}",
        "Runs found unfinished with nothing to move them on.");

    /// Occurrences of schedules that started a run.
    public static readonly Counter<long> ScheduleFired = Meter.CreateCounter<long>("enate.schedules.fired", "{occurrence}",
        "Schedule occurrences that started a run.");

    /// Occurrences of schedules found late and not run (their policy skips them, or runOnce ran a later one for them).
    public static readonly Counter<long> ScheduleMissed = Meter.CreateCounter<long>("enate.schedules.missed", "{occurrence}",
        "Schedule occurrences found late and not run.");

    /// How long after its occurrence a schedule's run was committed.
    public static readonly Histogram<double> ScheduleDelay = Meter.CreateHistogram<double>("enate.schedules.delay", "ms",
        "Time from a schedule's occurrence to its run's commit.");
}
