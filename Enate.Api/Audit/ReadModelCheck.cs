using Enate.Domain.Platform;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Enate.Api.Platform;
using Enate.Domain;
using JasperFx.Events;
using JasperFx.Events.Aggregation;
using JasperFx.Events.Projections;
using Marten;

namespace Enate.Api.Audit;

/// One field of one stored read-model document that its events do not give.
public sealed record ReadModelMismatch(string Document, string Id, string Field, JsonNode? Stored, JsonNode? FromEvents);

public sealed record ReadModelVerification(IReadOnlyDictionary<string, long> Checked, bool Ok, long Mismatches,
    IReadOnlyList<ReadModelMismatch> First, string? NextCursor = null);

/// Puts the read models under the proof too: each stored document (a run's summary, an inbound record) is built again
/// in memory from its stream's events, as the live projection built it, and compared field by field with what is
/// stored. The API serves these documents, so an edited status would otherwise pass every check of the event log.
/// Streams are read 500 at a time in id order (memory does not grow with the tenant), the next batch while the one
/// before is compared; a document no stream produces is named too. A page checks at most `limit` streams and names
/// where the next one begins, so a tenant of any size is checked in requests of a bounded time.
public sealed class ReadModelCheck
{
    public const string List = "read-models";
    public const int MaxStreams = 100_000;
    private const int StreamsPerBatch = 500;
    private const int ReadAhead = 3;
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

    /// Checks the tenant's streams after `after` in id order (from the first when null), at most `limit` of them (all
    /// when null), with the documents in that range of ids that no stream produces.
    public async Task<ReadModelVerification> VerifyAsync(string tenant, Guid? after, int? limit, CancellationToken ct)
    {
        var found = new List<ReadModelMismatch>();
        long mismatches = 0;
        var checkedCount = _models.ToDictionary(m => m.Name, _ => 0L);
        void Add(ReadModelMismatch mismatch)
        {
            mismatches++;
            if (found.Count < MaxReported) found.Add(mismatch);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var batches = Channel.CreateBounded<Task<Batch>>(ReadAhead - 1);
        var pages = ReadAsync(tenant, after ?? Guid.Empty, limit ?? int.MaxValue, batches.Writer, stop.Token);
        Guid? last = null;
        try
        {
            await using var session = _store.QuerySession(tenant);
            await foreach (var reading in batches.Reader.ReadAllAsync(stop.Token))
            {
                var batch = await reading;
                last = batch.Streams[^1];
                foreach (var model in _models)
                    checkedCount[model.Name] += await model.CompareAsync(session, batch.Streams, batch.Events, Add, stop.Token);
            }
        }
        catch
        {
            // The reading stops too; this failure is the one to answer with, whatever the reading's end.
            await stop.CancelAsync();
            try { await pages; } catch (Exception) { }
            throw;
        }
        var more = await pages;

        // Documents without a stream, in the ids this page covers: after the page's start, up to its last stream when
        // another page follows, else to the end.
        var upTo = more ? last : null;
        foreach (var model in _models)
        {
            var table = _store.Options.FindOrResolveDocumentType(model.Type).TableName.QualifiedName;
            await using var orphans = _databases.For(tenant).CreateCommand(
                $"select d.id::text from {table} d where d.tenant_id = @tenant and d.id > @after {(upTo is null ? "" : "and d.id <= @upto ")}" +
                $"and not exists (select 1 from {EnateStore.Schema}.mt_streams s where s.id = d.id and s.tenant_id = d.tenant_id) " +
                $"order by d.id limit {MaxReported}");
            orphans.Parameters.AddWithValue("tenant", tenant);
            orphans.Parameters.AddWithValue("after", after ?? Guid.Empty);
            if (upTo is not null) orphans.Parameters.AddWithValue("upto", upTo.Value);
            await using var reader = await orphans.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) Add(new ReadModelMismatch(model.Name, reader.GetString(0), "(document)", null, null));
        }
        return new ReadModelVerification(checkedCount, mismatches == 0, mismatches, found,
            more && last is { } next ? Paging.Cursor(List, next.ToString()) : null);
    }

    /// A batch of streams with their events in order.
    private sealed record Batch(Guid[] Streams, IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>> Events);

    /// Reads the page's batches into `batches`, in order, each batch's events read while the batches before it are
    /// (up to `ReadAhead` at once); whether streams remain after the page.
    private async Task<bool> ReadAsync(string tenant, Guid after, int limit, ChannelWriter<Task<Batch>> batches, CancellationToken ct)
    {
        try
        {
            var left = limit;
            while (left > 0)
            {
                var streams = await StreamsAfterAsync(tenant, after, Math.Min(StreamsPerBatch, left), ct);
                if (streams.Count == 0) return false;
                after = streams[^1];
                left -= streams.Count;
                await batches.WriteAsync(EventsOfAsync(tenant, streams.ToArray(), ct), ct);
            }
            return (await StreamsAfterAsync(tenant, after, 1, ct)).Count > 0;
        }
        finally
        {
            batches.TryComplete();
        }
    }

    private async Task<Batch> EventsOfAsync(string tenant, Guid[] streams, CancellationToken ct)
    {
        await using var session = _store.QuerySession(tenant);
        var events = await session.Events.QueryAllRawEvents().Where(e => e.StreamId.IsOneOf(streams)).OrderBy(e => e.Sequence).ToListAsync(ct);
        return new Batch(streams, events.GroupBy(e => e.StreamId).ToDictionary(g => g.Key, g => (IReadOnlyList<IEvent>)g.ToList()));
    }

    private async Task<List<Guid>> StreamsAfterAsync(string tenant, Guid after, int count, CancellationToken ct)
    {
        await using var command = _databases.For(tenant).CreateCommand(
            $"select id from {EnateStore.Schema}.mt_streams where tenant_id = @tenant and id > @id order by id limit {count}");
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
        Task<long> CompareAsync(IQuerySession session, Guid[] streams, IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>> events,
            Action<ReadModelMismatch> mismatch, CancellationToken ct);
    }

    /// One read model: its documents of these streams, stored and as the events build them.
    private sealed class ReadModel<T>(StoreOptions options) : IReadModel where T : class
    {
        private readonly IAggregator<T, IQuerySession> _aggregator = options.Projections.AggregatorFor<T>();
        private readonly ISerializer _serializer = options.Serializer();
        // The read models are keyed by their stream's id.
        private static readonly Func<T, Guid> IdOf = document => (Guid)typeof(T).GetProperty("Id")!.GetValue(document)!;
        // The stream version a document carries: metadata (mt_version), not the projection's output.
        private static readonly PropertyInfo? Version = typeof(T).GetProperty("Version") is { CanRead: true, CanWrite: true } p && p.PropertyType == typeof(long) ? p : null;

        public string Name => typeof(T).Name;
        public Type Type => typeof(T);

        public async Task<long> CompareAsync(IQuerySession session, Guid[] streams, IReadOnlyDictionary<Guid, IReadOnlyList<IEvent>> events,
            Action<ReadModelMismatch> mismatch, CancellationToken ct)
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
                // Most documents are as their events build them: the same text once the version is the stored one.
                if (built is not null && Version is not null) Version.SetValue(built, Version.GetValue(document));
                var storedText = _serializer.ToJson(document);
                var builtText = built is null ? null : _serializer.ToJson(built);
                if (storedText == builtText) continue;
                var have = JsonNode.Parse(storedText)!.AsObject();
                var want = builtText is null ? new JsonObject() : JsonNode.Parse(builtText)!.AsObject();
                foreach (var field in have.Select(p => p.Key).Union(want.Select(p => p.Key)).Where(f => f != "version").Distinct())
                    if (!JsonNode.DeepEquals(have[field], want[field]))
                        mismatch(new ReadModelMismatch(Name, id.ToString(), field, have[field]?.DeepClone(), want[field]?.DeepClone()));
            }
            return compared;
        }
    }
}
