using System.Diagnostics;
using Marten;
using Wolverine;
using Wolverine.Runtime;
using Wolverine.Runtime.Serialization;

namespace Enate.Domain.Platform;

/// A message written straight into one of the Workers' PostgreSQL queue tables, serialized as Wolverine's envelope, with
/// the table's columns. The queue lives in the same database as the streams, so the message commits or vanishes with
/// the transaction that wrote it, exactly as through Wolverine's outbox — without the outbox's second step (an outgoing
/// row per message, then after the commit one more statement per message to move it into the queue, each move waking
/// the listener for that one message).
public sealed record QueuedMessage(Guid Id, byte[] Body, string MessageType, DateTimeOffset? KeepUntil)
{
    /// The message as Wolverine would put it into the queue: routed, enveloped, serialized — with the headers the Workers
    /// use only. Wolverine's full header set was six times the message itself; what is left out here the receiver does not
    /// read (the destination it sets from its own listener, the accepted content types are for replies, the source and
    /// conversation name the sender). Each message carries the trace it was asked for in, not the writer's.
    public static IEnumerable<QueuedMessage> For(IWolverineRuntime runtime, Uri queue, object message, string tenantId, Activity? trace)
    {
        foreach (var envelope in runtime.RoutingFor(message.GetType()).RouteForPublish(message, new DeliveryOptions { TenantId = tenantId }))
        {
            if (envelope.Destination != queue)
                throw new InvalidOperationException($"{message.GetType().Name} is routed to {envelope.Destination}, not to the queue {queue}.");
            envelope.TenantId = tenantId;
            envelope.CorrelationId = trace?.RootId;
            envelope.ParentId = trace?.Id;
            envelope.Destination = null;
            envelope.AcceptedContentTypes = [];
            envelope.Source = null;
            yield return new QueuedMessage(envelope.Id, EnvelopeSerializer.Serialize(envelope), envelope.MessageType!, envelope.DeliverBy);
        }
    }

    /// The queue's address as Wolverine routes to it.
    public static Uri Queue(string name) => new($"postgresql://{name}");

    /// Adds the message's row to the session's unit of work. The statement returns no rows, as every statement queued
    /// beside Marten's own must: Marten reads its operations' results in order from the one batch.
    public void QueueIn(IDocumentSession session, string table) =>
        session.QueueSqlCommand($"insert into {table} (id, body, message_type, keep_until) values (?, ?, ?, ?)",
            Id, Body, MessageType, (object?)KeepUntil ?? DBNull.Value);
}
