using JasperFx.Events;
using Marten;

namespace Enate.Domain;

/// Reads of several streams' events at once. Not "stream id in this list": the connections auto-prepare statements
/// (EnateStore.ConfigureConnections), and the generic plan PostgreSQL then keeps for "stream_id = ANY($1) and
/// version = $2" reads the events' index by tenant and version only and filters the stream ids afterwards — every
/// first event of the tenant, for a page of twenty. One round trip of per-stream reads stays on the streams asked for.
public static class StreamReads
{
    /// The events of each of these streams, in order, by stream id (up to `version`; all of them when it is 0). A
    /// stream with no events is not in the answer.
    public static async Task<IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>>> StreamsAsync(IQuerySession session,
        IEnumerable<Guid> streamIds, CancellationToken ct, long version = 0)
    {
        var ids = streamIds.Distinct().ToArray();
        if (ids.Length == 0) return new Dictionary<Guid, IReadOnlyList<IEvent>>();
        var batch = session.CreateBatchQuery();
        var streams = ids.Select(id => batch.Events.FetchStream(id, version)).ToList();
        await batch.Execute(ct);
        var read = await Task.WhenAll(streams);
        return ids.Zip(read).Where(s => s.Second.Count > 0).ToDictionary(s => s.First, s => s.Second);
    }

    /// The first event of each of these streams that exists, in no particular order.
    public static async Task<IReadOnlyList<IEvent>> FirstEventsAsync(IQuerySession session, IEnumerable<Guid> streamIds, CancellationToken ct) =>
        (await StreamsAsync(session, streamIds, ct, version: 1)).Values.SelectMany(stream => stream).ToList();
}
