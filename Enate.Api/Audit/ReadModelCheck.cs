using Enate.Domain.Platform;
using System.Text.Json.Nodes;
using Enate.Domain;
using JasperFx.Events;
using JasperFx.Events.Aggregation;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;

namespace Enate.Api.Audit;

/// One field of one stored read-model document that its events do not give.
public sealed record ReadModelMismatch(string Document, string Id, string Field, JsonNode? Stored, JsonNode? FromEvents);

public sealed record ReadModelVerification(IReadOnlyDictionary<string, long> Checked, bool Ok, long Mismatches,
    IReadOnlyList<ReadModelMismatch> First);

/// Puts the read models under the proof too: each stored document (a run's summary, an inbound record) is built again
/// in memory from its stream's events, as the live projection built it, and compared field by field with what is
/// stored. The API serves these documents, so an edited status would otherwise pass every check of the event log.
/// Streams are read 500 at a time (memory does not grow with the tenant); a document no stream produces is named too.
public sealed class ReadModelCheck
{
    private const int StreamsPerBatch = 500;
    private const int MaxReported = 100;
    private readonly IDocumentStore _store;
    private readonly TenantDatabases _databases;
    private readonly IReadModel[] _models;

    public ReadModelCheck(IDocumentStore store, TenantDatabases databases)
    {
        (_store, _databases) = (store, databases);
        var options = ((DocumentStore)store).Options;
        _models = store.Options.Events.Projections().OfType<IPublishesTypes>().SelectMany(s => s.PublishedTypes()).Distinct()
            .Select(type => (IReadModel)Activator.CreateInstance(typeof(ReadModel<>).MakeGenericType(type), options)!).ToArray();
    }

    public async Task<ReadModelVerification> VerifyAsync(string tenant, CancellationToken ct)
    {
        var found = new List<ReadModelMismatch>();
        long mismatches = 0;
        var checkedCount = _models.ToDictionary(m => m.Name, _ => 0L);
        void Add(ReadModelMismatch mismatch)
        {
            mismatches++;
            if (found.Count < MaxReported) found.Add(mismatch);
        }

        await using var session = _store.QuerySession(tenant);
        var after = Guid.Empty;
        while (true)
        {
            var batch = await StreamsAfterAsync(tenant, after, ct);
            if (batch.Count == 0) break;
            after = batch[^1];
            var events = (await session.Events.QueryAllRawEvents().Where(e => e.StreamId.IsOneOf(batch.ToArray())).OrderBy(e => e.Sequence)
                .ToListAsync(ct)).GroupBy(e => e.StreamId).ToDictionary(g => g.Key, g => (IReadOnlyList<IEvent>)g.ToList());
            foreach (var model in _models)
                checkedCount[model.Name] += await model.CompareAsync(session, batch, events, Add, ct);
        }
        foreach (var model in _models)
        {
            var table = _store.Options.FindOrResolveDocumentType(model.Type).TableName.QualifiedName;
            await using var orphans = _databases.For(tenant).CreateCommand(
                $"select d.id::text from {table} d where d.tenant_id = @tenant and not exists " +
                $"(select 1 from {EnateStore.Schema}.mt_streams s where s.id = d.id and s.tenant_id = d.tenant_id) limit {MaxReported}");
            orphans.Parameters.AddWithValue("tenant", tenant);
            await using var reader = await orphans.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) Add(new ReadModelMismatch(model.Name, reader.GetString(0), "(document)", null, null));
        }
        return new ReadModelVerification(checkedCount, mismatches == 0, mismatches, found);
    }

    private async Task<List<Guid>> StreamsAfterAsync(string tenant, Guid after, CancellationToken ct)
    {
        await using var command = _databases.For(tenant).CreateCommand(
            $"select id from {EnateStore.Schema}.mt_streams where tenant_id = @tenant and id > @id order by id limit {StreamsPerBatch}");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("id", after);
        var streams = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) streams.Add(reader.GetGuid(0));
        return streams;
    }

    private interface IReadModel
    {
        string Name { get; }
        Type Type { get; }
        Task<long> CompareAsync(IQuerySession session, IReadOnlyList<Guid> streams, IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>> events,
            Action<ReadModelMismatch> mismatch, CancellationToken ct);
    }

    /// One read model: its documents of these streams, stored and as the events build them.
    private sealed class ReadModel<T>(StoreOptions options) : IReadModel where T : class
    {
        private readonly IAggregator<T, IQuerySession> _aggregator = options.Projections.AggregatorFor<T>();
        private readonly ISerializer _serializer = options.Serializer();
        // The read models are keyed by their stream's id.
        private static readonly Func<T, Guid> IdOf = document => (Guid)typeof(T).GetProperty("Id")!.GetValue(document)!;
        public string Name => typeof(T).Name;
        public Type Type => typeof(T);

        public async Task<long> CompareAsync(IQuerySession session, IReadOnlyList<Guid> streams,
            IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>> events, Action<ReadModelMismatch> mismatch, CancellationToken ct)
        {
            var stored = (await session.LoadManyAsync<T>(ct, streams)).ToDictionary(IdOf);
            long compared = 0;
            foreach (var id in streams)
            {
                var built = events.TryGetValue(id, out var stream) ? await _aggregator.BuildAsync(stream, session, null!, ct) : null;
                stored.TryGetValue(id, out var document);
                if (built is null && document is null) continue;
                compared++;
                if (document is null)
                {
                    mismatch(new ReadModelMismatch(Name, id.ToString(), "(document)", null, JsonNode.Parse(_serializer.ToJson(built!))));
                    continue;
                }
                var have = JsonNode.Parse(_serializer.ToJson(document))!.AsObject();
                var want = built is null ? new JsonObject() : JsonNode.Parse(_serializer.ToJson(built))!.AsObject();
                // The stream version is metadata (mt_version), not the projection's output.
                foreach (var field in have.Select(p => p.Key).Union(want.Select(p => p.Key)).Where(f => f != "version").Distinct())
                    if (!JsonNode.DeepEquals(have[field], want[field]))
                        mismatch(new ReadModelMismatch(Name, id.ToString(), field, have[field]?.DeepClone(), want[field]?.DeepClone()));
            }
            return compared;
        }
    }
}
