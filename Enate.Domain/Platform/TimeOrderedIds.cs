namespace Enate.Domain.Platform;

/// Runs and inbound requests get version 7 ids made from the moment they were requested or received, so an id
/// range is a time range: lists bound and order by the primary key instead of keeping a time index per table.
public static class TimeOrderedIds
{
    /// The smallest version 7 id of the millisecond `at` falls in: every id made at or after that millisecond
    /// is at least this.
    public static Guid First(DateTimeOffset at)
    {
        var ms = Math.Max(0, at.ToUnixTimeMilliseconds());
        return Guid.Parse($"{ms >> 16:x8}-{ms & 0xffff:x4}-7000-8000-000000000000");
    }

    /// The smallest id of the next millisecond: every id made before `at` is below this. The millisecond is added in
    /// UTC (a client's +14:00 on the last day of year 9999 has no next millisecond on its own clock); in the last
    /// millisecond a DateTimeOffset can hold there is no next one at all: every id is below the largest.
    public static Guid After(DateTimeOffset at) =>
        at.UtcTicks > DateTimeOffset.MaxValue.UtcTicks - TimeSpan.TicksPerMillisecond ? Last : First(at.ToUniversalTime().AddMilliseconds(1));

    private static readonly Guid Last = Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
}
