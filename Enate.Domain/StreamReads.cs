using JasperFx.Events;
using Marten;

namespace Enate.Domain;

/// Reads of several streams' events at once. Not "stream id in this list": the connections auto-prepare statements
/// (EnateStore.ConfigureConnections), and the generic plan PostgreSQL then keeps for "stream_id = ANY($1) and
/// version = $2" reads the events' index by tenant and version only and filters the stream ids afterwards — every
/// first event of the tenant, for a page of twenty. One round trip of per-stream reads stays on the streams asked for.
public static class StreamReads
{
    /// The first event of each of these streams that exists, in no particular order.
    public static async Task<IReadOnlyList<IEvent>> FirstEventsAsync(IQuerySession session, IEnumerable<Guid> streamIds, CancellationToken ct)
    {
        var ids = streamIds.Distinct().ToArray();
        if (ids.Length == 0) return [];
        var batch = session.CreateBatchQuery();
        var streams = ids.Select(id => batch.Events.FetchStream(id, version: 1)).ToList();
        await batch.Execute(ct);
        return (await Task.WhenAll(streams)).SelectMany(stream => stream).ToList();
    }
}
