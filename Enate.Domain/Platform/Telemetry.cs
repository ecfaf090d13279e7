using System.Diagnostics.Metrics;

namespace Enate.Domain.Platform;

/// The platform's own metrics (meter "Enate", exported with the rest over OTLP).
public static class Telemetry
{
    public static readonly Meter Meter = new("Enate");

    /// Requests to a trigger that were refused, by reason, and whether a record of them was kept.
    public static readonly Counter<long> RejectedRequests = Meter.CreateCounter<long>("enate.inbound.rejected", "{request}",
        "Requests to a trigger that were refused.");

    /// Runs the sweeper found unfinished with nothing scheduled to move them on.
    public static readonly Counter<long> StuckRuns = Meter.CreateCounter<long>("enate.runs.stuck", "{run}",
        "Runs found unfinished with nothing to move them on.");
}
