using Enate.Domain.Platform;

namespace Enate.Domain.Tests.Platform;

public sealed class when_ids_are_made_in_order
{
    [Fact]
    public void ids_made_in_one_millisecond_sort_in_the_order_made_as_postgresql_sorts_them()
    {
        var at = DateTimeOffset.Parse("2026-12-02T12:00:00Z");
        var ids = Enumerable.Range(0, 1_000).Select(_ => OrderedIds.Next(at)).ToList();

        var sorted = ids.OrderBy(id => id.ToByteArray(bigEndian: true), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();
        Assert.Equal(ids, sorted);
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.All(ids, id => Assert.Equal(at.ToUnixTimeMilliseconds(), MillisecondsOf(id)));
    }

    private static long MillisecondsOf(Guid id)
    {
        var bytes = id.ToByteArray(bigEndian: true);
        return ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
    }
}
