using Enate.Domain.Platform;
using System.Diagnostics;
using Enate.Domain;
using Enate.Domain.Inbound;
using Enate.Domain.Runs;
using JasperFx;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events;
using Npgsql;
using NpgsqlTypes;
using Wolverine.Runtime.Serialization;

namespace Enate.Api.Runs;

/// Writes a group commit's batch with one multi-row statement per table — new streams, their events, their
/// read models, documents, queue messages — in one implicit transaction (one Npgsql batch, one Sync).
///
/// Marten's unit of work writes the same rows one statement per row (seven per webhook); PostgreSQL paid a
/// statement's fixed cost (bind, executor start and end, index and trigger set-up) for each, more than for the
/// rows themselves (docs/benchmarks.md). The rows are Marten's own: the same columns, the same serializer, the
/// same event type names, and the read models its inline projections would build — the conformance test
/// (tests/…/when_a_batch_is_written_in_bulk.cs) writes the same requests both ways and compares every column.
/// What this writer knows is deliberately narrow: streams that start with one event and the inline projections
/// of runs and inbound requests; the store is checked at start, so a new inline projection cannot be missed.
public sealed class BulkWriter
{
    private readonly TenantDatabases _databases;
    private readonly ISerializer _serializer;
    private readonly EventGraph _events;

    private static readonly string Streams = $"{EnateStore.Schema}.mt_streams";
    private static readonly string Events = $"{EnateStore.Schema}.mt_events";
    private static readonly string Sequence = $"{EnateStore.Schema}.mt_events_sequence";

    public BulkWriter(TenantDatabases databases, IDocumentStore store)
    {
        _databases = databases;
        var options = (StoreOptions)store.Options;
        _serializer = options.Serializer();
        _events = (EventGraph)options.Events;
        var inline = options.Projections.All.Where(p => p.Lifecycle == ProjectionLifecycle.Inline).Select(p => p.GetType()).ToHashSet();
        // Notification deliveries are projected inline too, but their streams start with NotificationQueued, which this
        // writer never writes (ReadModelOf refuses any first event but a run's or an inbound request's).
        inline.Remove(typeof(Enate.Domain.Notifications.NotificationDeliveryProjection));
        if (!inline.SetEquals([typeof(RunSummaryProjection), typeof(InboundRequestProjection)]))
            throw new InvalidOperationException(
                $"The bulk writer builds the read models of RunSummaryProjection and InboundRequestProjection only, but the store has these inline projections: {string.Join(", ", inline.Select(t => t.Name))}. Teach BulkWriter.ReadModelOf the new one.");
    }

    /// One request's writes: its tenant, its new streams, its documents, its messages, and the trace it belongs to.
    public sealed record Item(string TenantId, IReadOnlyList<NewStream> Streams, IReadOnlyList<object> Documents,
        IReadOnlyList<QueuedMessage> Messages, Activity? Trace);

    /// Writes the items, which are all of tenants in one database, in one transaction.
    public async Task WriteAsync(IReadOnlyList<Item> items)
    {
        if (_databases.Several && items.Select(i => _databases.NameOf(i.TenantId)).Distinct().Skip(1).Any())
            throw new ArgumentException("One bulk write goes to one database: group the items by their tenants' databases.", nameof(items));
        var now = DateTimeOffset.UtcNow;
        var streams = new Rows(5);
        var events = new Rows(8);
        var summaries = new Rows(4);
        var inbound = new Rows(4);
        var idempotency = new Rows(4);
        var queue = new Rows(4);

        foreach (var item in items)
        {
            var correlation = item.Trace?.RootId;
            foreach (var stream in item.Streams)
            {
                if (stream.Events.Length != 1)
                    throw new NotSupportedException("The bulk writer starts streams with exactly one event.");
                var first = stream.Events[0];
                var mapping = _events.EventMappingFor(first.GetType());
                streams.Add(stream.Id, _events.AggregateAliasFor(stream.Aggregate), 1L, item.TenantId, now);
                // Every event of a batch gets the batch's moment, as Marten gives every event of a session its own.
                events.Add(Guid.CreateVersion7(now), stream.Id, _serializer.ToJson(first), mapping.EventTypeName, item.TenantId,
                    mapping.DotNetTypeName, correlation, now);
                switch (ReadModelOf(first))
                {
                    case RunSummary summary:
                        summaries.Add(item.TenantId, summary.Id, _serializer.ToJson(summary), typeof(RunSummary).FullName);
                        break;
                    case InboundRequest request:
                        inbound.Add(item.TenantId, request.Id, _serializer.ToJson(request), typeof(InboundRequest).FullName);
                        break;
                }
            }
            foreach (var document in item.Documents)
            {
                if (document is not RunIdempotency key)
                    throw new NotSupportedException($"The bulk writer does not store {document.GetType().Name} documents.");
                idempotency.Add(item.TenantId, key.Id, _serializer.ToJson(key), typeof(RunIdempotency).FullName);
            }
            foreach (var message in item.Messages) queue.Add(message.Id, message.Body, message.MessageType, message.KeepUntil?.UtcDateTime);
        }

        await using var batch = _databases.For(items[0].TenantId).CreateBatch();
        // Streams first: every event's foreign key points at its stream.
        streams.Insert(batch,
            $"insert into {Streams} (id, type, version, tenant_id, timestamp) select * from unnest($1, $2, $3, $4, $5)",
            NpgsqlDbType.Uuid, NpgsqlDbType.Varchar, NpgsqlDbType.Bigint, NpgsqlDbType.Varchar, NpgsqlDbType.TimestampTz);
        // Sequence numbers are drawn row by row in the order given (the daemon reads events in seq_id order).
        events.Insert(batch,
            $"insert into {Events} (seq_id, id, stream_id, version, data, type, tenant_id, mt_dotnet_type, correlation_id, timestamp, headers, is_archived) " +
            $"select nextval('{Sequence}'), e.id, e.stream_id, 1, e.data, e.type, e.tenant_id, e.dotnet_type, e.correlation_id, e.timestamp, 'null'::jsonb, false " +
            "from unnest($1, $2, $3, $4, $5, $6, $7, $8) as e(id, stream_id, data, type, tenant_id, dotnet_type, correlation_id, timestamp)",
            NpgsqlDbType.Uuid, NpgsqlDbType.Uuid, NpgsqlDbType.Jsonb, NpgsqlDbType.Varchar, NpgsqlDbType.Varchar, NpgsqlDbType.Varchar,
            NpgsqlDbType.Varchar, NpgsqlDbType.TimestampTz);
        // Read models carry the version of the stream they were projected from (one event: version 1).
        summaries.Insert(batch, ReadModelSql("runsummary"), NpgsqlDbType.Varchar, NpgsqlDbType.Uuid, NpgsqlDbType.Jsonb, NpgsqlDbType.Varchar);
        inbound.Insert(batch, ReadModelSql("inboundrequest"), NpgsqlDbType.Varchar, NpgsqlDbType.Uuid, NpgsqlDbType.Jsonb, NpgsqlDbType.Varchar);
        idempotency.Insert(batch,
            $"insert into {EnateStore.Schema}.mt_doc_runidempotency (tenant_id, id, data, mt_dotnet_type) select * from unnest($1, $2, $3, $4)",
            NpgsqlDbType.Varchar, NpgsqlDbType.Varchar, NpgsqlDbType.Jsonb, NpgsqlDbType.Varchar);
        queue.Insert(batch,
            $"insert into {EnateStore.RunQueueTable} (id, body, message_type, keep_until) select * from unnest($1, $2, $3, $4)",
            NpgsqlDbType.Uuid, NpgsqlDbType.Bytea, NpgsqlDbType.Varchar, NpgsqlDbType.TimestampTz);

        try
        {
            // Without an explicit transaction a batch runs as one implicit transaction: it commits when the last
            // statement succeeds, and nothing of it remains when any fails.
            await batch.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.TableName == "mt_doc_runidempotency")
        {
            var taken = items.SelectMany(i => i.Documents).OfType<RunIdempotency>().First();
            throw new DocumentAlreadyExistsException(e, typeof(RunIdempotency), taken.Id);
        }
    }

    private static string ReadModelSql(string table) =>
        $"insert into {EnateStore.Schema}.mt_doc_{table} (tenant_id, id, data, mt_dotnet_type, mt_version) select *, 1 from unnest($1, $2, $3, $4)";

    /// The read model an inline projection builds from a stream's first event.
    private static object ReadModelOf(object first) => first switch
    {
        RunRequested e => Versioned(RunSummaryProjection.Create(e)),
        InboundRequestRecorded e => InboundRequestProjection.Create(e),
        _ => throw new NotSupportedException($"No read model is known for a stream starting with {first.GetType().Name}."),
    };

    private static RunSummary Versioned(RunSummary summary)
    {
        summary.Version = 1;
        return summary;
    }

    /// Column-wise values for one multi-row insert.
    private sealed class Rows(int columns)
    {
        private readonly List<object?>[] _columns = Enumerable.Range(0, columns).Select(_ => new List<object?>()).ToArray();

        public void Add(params object?[] values)
        {
            for (var i = 0; i < values.Length; i++) _columns[i].Add(values[i]);
        }

        public void Insert(NpgsqlBatch batch, string sql, params NpgsqlDbType[] types)
        {
            if (_columns[0].Count == 0) return;
            var command = new NpgsqlBatchCommand(sql);
            for (var i = 0; i < types.Length; i++)
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | types[i], Value = ToArray(_columns[i], types[i]) });
            batch.BatchCommands.Add(command);
        }

        private static Array ToArray(List<object?> values, NpgsqlDbType type) => type switch
        {
            NpgsqlDbType.Uuid => values.Cast<Guid>().ToArray(),
            NpgsqlDbType.Bigint => values.Cast<long>().ToArray(),
            NpgsqlDbType.Bytea => values.Cast<byte[]>().ToArray(),
            NpgsqlDbType.TimestampTz => values.Select(v => v switch
            {
                DateTime d => (DateTime?)d,
                DateTimeOffset o => o.UtcDateTime,
                _ => null,
            }).ToArray(),
            _ => values.Cast<string?>().ToArray(),
        };
    }
}
