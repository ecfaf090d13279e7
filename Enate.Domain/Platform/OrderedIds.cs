namespace Enate.Domain.Platform;

/// Version 7 ids that keep the order this process made them in, within one millisecond too, where
/// Guid.CreateVersion7 alone orders at random: lists that page "in the order made" by id rely on it.
public static class OrderedIds
{
    private static readonly Lock Gate = new();
    private static Guid _last;

    public static Guid Next(DateTimeOffset? at = null)
    {
        var id = Guid.CreateVersion7(at ?? DateTimeOffset.UtcNow);
        lock (Gate)
        {
            if (BytesOf(id).SequenceCompareTo(BytesOf(_last)) <= 0) id = After(_last);
            _last = id;
            return id;
        }
    }

    // PostgreSQL orders uuids by their bytes in this order.
    private static byte[] BytesOf(Guid id) => id.ToByteArray(bigEndian: true);

    /// The next id after this one: its random tail plus one, leaving the time, version and variant bits as they are.
    private static Guid After(Guid id)
    {
        var bytes = BytesOf(id);
        for (var i = 15; i >= 9; i--)
            if (++bytes[i] != 0) break;
        return new Guid(bytes, bigEndian: true);
    }
}
