using Enate.Domain.Platform;
using System.Security.Cryptography;
using System.Text;
using Enate.Domain;
using Enate.Domain.Audit;
using JasperFx.Events;
using JasperFx.Events.Aggregation;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using Npgsql;
using Weasel.Storage;
using SessionOptions = Marten.Services.SessionOptions;

namespace Enate.Api.Audit;

/// Rebuilds every read model from the event log in the background, saving its progress as it goes, while runs go on.
/// Not Marten's daemon rebuild: that truncates the read-model tables first, and a run step appended meanwhile
/// projects its summary from its own event alone, cannot save it, and is dead-lettered; asked not to truncate, it
/// applies the events again over the existing documents (a replay link appears twice). Instead the streams are read in
/// batches and each document is projected from scratch and overwritten in place, with its stream version as revision;
/// the streams appended to meanwhile are projected again afterwards, and documents no stream produces are deleted.
/// A rebuild covers the tenant that asked for it: its streams, its documents; other tenants' read models are not
/// touched. One rebuild per tenant at a time across replicas (a PostgreSQL advisory lock per tenant: different
/// tenants' rebuilds touch disjoint rows and may run together); one whose process died reports "abandoned".
public sealed class ProjectionRebuilder
{
    /// Saved at least this often while running; silence for <see cref="AbandonedAfter"/> means the process died.
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(1);
    /// The advisory lock a tenant's rebuild holds while it runs.
    public static long LockKeyFor(string tenantId) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"EnateReb:{tenantId}")));

    private const int StreamsPerBatch = 500;
    /// Batches reprojected at once.
    private const int Lanes = 3;
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromMinutes(2);
    /// Appends take milliseconds; a writer open longer than this is not one (and is not waited for).
    private static readonly TimeSpan WritersWait = TimeSpan.FromSeconds(30);
    private static readonly string Events = $"{EnateStore.Schema}.mt_events";
    private static readonly string Streams = $"{EnateStore.Schema}.mt_streams";

    private readonly IDocumentStore _store;
    private readonly TenantDatabases _databases;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<ProjectionRebuilder> _logger;
    private readonly IReadModel[] _models;
    private readonly ISerializer _serializer;

    public ProjectionRebuilder(IDocumentStore store, TenantDatabases databases, TimeProvider time, IHostApplicationLifetime lifetime,
        ILogger<ProjectionRebuilder> logger)
    {
        (_store, _databases, _time, _lifetime, _logger) = (store, databases, time, lifetime, logger);
        var options = ((DocumentStore)store).Options;
        _serializer = options.Serializer();
        var sources = store.Options.Events.Projections();
        var others = sources.Where(s => !IsSingleStream(s.ImplementationType)).Select(s => s.Name).ToList();
        if (others.Count > 0) throw new NotSupportedException($"Only single-stream projections can be rebuilt here, not {string.Join(", ", others)}.");
        ProjectionNames = sources.Select(s => s.Name).Distinct().ToList();
        _models = sources.OfType<IPublishesTypes>().SelectMany(s => s.PublishedTypes()).Distinct()
            .Select(type => (IReadModel)Activator.CreateInstance(typeof(ReadModel<>).MakeGenericType(type), options)!).ToArray();
    }

    public IReadOnlyList<string> ProjectionNames { get; }

    /// Null when a rebuild is running already, here or on another replica.
    public async Task<ProjectionRebuild?> StartAsync(string tenantId, string requestedBy, CancellationToken ct)
    {
        // Held on its own connection for as long as the rebuild runs; a process that dies lets go of it.
        var connection = await _databases.For(tenantId).OpenConnectionAsync(ct);
        try
        {
            await using (var take = new NpgsqlCommand($"select pg_try_advisory_lock({LockKeyFor(tenantId)})", connection))
            {
                if (!(bool)(await take.ExecuteScalarAsync(ct))!)
                {
                    await connection.DisposeAsync();
                    return null;
                }
            }

            var (count, highest, now) = await StartingPointAsync(connection, tenantId, ct);
            var rebuild = new ProjectionRebuild
            {
                Id = Guid.CreateVersion7(), Projections = [.. ProjectionNames], Total = count, TenantId = tenantId,
                RequestedBy = requestedBy, StartedAt = now, UpdatedAt = _time.GetUtcNow(),
            };
            await SaveAsync(rebuild, ct);
            _ = Task.Run(() => RunAsync(rebuild, highest, connection), CancellationToken.None);
            return rebuild;
        }
        catch
        {
            await ReleaseAsync(connection, tenantId);
            throw;
        }
    }

    /// The saved state, with a "running" rebuild that stopped reporting shown as abandoned.
    public ProjectionRebuild Reported(ProjectionRebuild rebuild)
    {
        if (rebuild.Status == RebuildStatus.Running && _time.GetUtcNow() - rebuild.UpdatedAt > AbandonedAfter)
            rebuild.Status = RebuildStatus.Abandoned;
        return rebuild;
    }

    private async Task RunAsync(ProjectionRebuild rebuild, long mark, NpgsqlConnection held)
    {
        var ct = _lifetime.ApplicationStopping;
        try
        {
            // Appends open now may hold sequence numbers below the mark: let them finish, documents included, first.
            // Every later append then has a higher number, and the catch-up finds its stream.
            await WaitForWritersInFlightAsync(rebuild.TenantId, ct);
            await ReprojectAllAsync(rebuild, ct);
            var tenant = rebuild.TenantId;
            rebuild.StreamsCaughtUp = await CatchUpAsync(tenant, mark, ct);
            rebuild.OrphansDeleted = await DeleteOrphansAsync(tenant, rebuild.StartedAt, ct);
            rebuild.Status = RebuildStatus.Succeeded;
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Rebuild {RebuildId} failed", rebuild.Id);
            rebuild.Status = RebuildStatus.Failed;
            rebuild.Error = ex.Message;
        }
        finally
        {
            rebuild.FinishedAt = rebuild.UpdatedAt = _time.GetUtcNow();
            try
            {
                await SaveAsync(rebuild, CancellationToken.None);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Could not save the end of rebuild {RebuildId}", rebuild.Id);
            }
            await ReleaseAsync(held, rebuild.TenantId);
        }
    }

    /// Reprojects every stream of the tenant, a batch at a time, saving the progress as it goes. Batches hold disjoint
    /// streams, so a few go at once: one is projected here while PostgreSQL reads or writes another.
    private async Task ReprojectAllAsync(ProjectionRebuild rebuild, CancellationToken ct)
    {
        var (tenant, after, saved, more) = (rebuild.TenantId, Guid.Empty, _time.GetUtcNow(), true);
        var lanes = new Queue<Task<long>>();
        try
        {
            while (true)
            {
                var batch = more ? await StreamsAfterAsync(tenant, after, ct) : [];
                more = batch.Count > 0;
                if (more)
                {
                    lanes.Enqueue(ReprojectAsync(tenant, batch.ToArray(), ct));
                    after = batch[^1];
                    if (lanes.Count < Lanes) continue;
                }
                if (lanes.Count == 0) break;
                rebuild.EventsProcessed += await lanes.Dequeue();
                if (_time.GetUtcNow() - saved < ProgressInterval) continue;
                rebuild.UpdatedAt = saved = _time.GetUtcNow();
                await SaveAsync(rebuild, ct);
            }
        }
        catch
        {
            // No batch may still be writing once the rebuild reports its end and lets go of its lock.
            try { await Task.WhenAll(lanes); }
            catch { /* the first failure is the one reported */ }
            throw;
        }
    }

    /// Projects every read model of these streams from all their events and overwrites the documents, in one
    /// transaction; answers how many events it read. The documents of a batch are written in one statement per read
    /// model, as Marten's revisioned upsert writes each (the same columns, the stream version as revision, and no
    /// overwrite once the stream has moved past what was projected: the catch-up projects that stream again).
    private async Task<long> ReprojectAsync(string tenant, Guid[] streams, CancellationToken ct)
    {
        await using var session = _store.QuerySession(new SessionOptions { TenantId = tenant });
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamId.IsOneOf(streams)).OrderBy(e => e.Sequence).ToListAsync(ct);
        var documents = _models.Select(_ => new Documents(streams.Length)).ToArray();
        foreach (var stream in events.GroupBy(e => e.StreamId))
        {
            var ordered = stream.ToList();
            for (var i = 0; i < _models.Length; i++)
                if (await _models[i].ProjectAsync(session, ordered, ct) is { } document)
                    documents[i].Add(stream.Key, _serializer.ToJson(document), ordered[^1].Version, document.GetType().FullName!);
        }

        // One round trip; PostgreSQL runs a batch's statements in one implicit transaction.
        await using var connection = await _databases.For(tenant).OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        for (var i = 0; i < _models.Length; i++)
            if (documents[i].Ids.Count > 0) batch.BatchCommands.Add(documents[i].Upsert(_models[i].Table, tenant));
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
        return events.Count;
    }

    /// One read model's documents of a batch, as the columns of its table.
    private sealed class Documents(int capacity)
    {
        public List<Guid> Ids { get; } = new(capacity);
        private readonly List<string> _data = new(capacity), _types = new(capacity);
        private readonly List<long> _versions = new(capacity);

        public void Add(Guid id, string data, long version, string type)
        {
            Ids.Add(id);
            _data.Add(data);
            _versions.Add(version);
            _types.Add(type);
        }

        public NpgsqlBatchCommand Upsert(string table, string tenant)
        {
            var command = new NpgsqlBatchCommand(
                $"insert into {table} as t (tenant_id, id, data, mt_version, mt_dotnet_type, mt_last_modified) " +
                "select @tenant, d.id, d.data, d.version, d.type, transaction_timestamp() from unnest(@ids, @data, @versions, @types) as d(id, data, version, type) " +
                "on conflict (tenant_id, id) do update set data = excluded.data, mt_version = excluded.mt_version, " +
                "mt_dotnet_type = excluded.mt_dotnet_type, mt_last_modified = excluded.mt_last_modified " +
                $"where coalesce((select s.version from {Streams} s where s.id = t.id and s.tenant_id = t.tenant_id), 0) <= excluded.mt_version");
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("ids", Ids.ToArray());
            command.Parameters.Add(new NpgsqlParameter("data", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Jsonb) { Value = _data.ToArray() });
            command.Parameters.AddWithValue("versions", _versions.ToArray());
            command.Parameters.AddWithValue("types", _types.ToArray());
            return command;
        }
    }

    /// A live append may have updated a document after the rebuild read its stream and before it wrote it, so every
    /// stream appended to since the start is projected again. An append racing that (it read the document before it
    /// was replaced) moves the stream's version: once the writers open meanwhile have finished, such streams are
    /// projected again, until none moved.
    private async Task<int> CatchUpAsync(string tenant, long mark, CancellationToken ct)
    {
        var pending = await StreamsAppendedAfterAsync(tenant, mark, ct);
        var done = new HashSet<Guid>();
        var deadline = _time.GetUtcNow() + CatchUpLimit;
        while (pending.Count > 0)
        {
            var versions = await VersionsAsync(tenant, pending, ct);
            foreach (var chunk in pending.Chunk(StreamsPerBatch)) await ReprojectAsync(tenant, chunk, ct);
            done.UnionWith(pending);
            await WaitForWritersInFlightAsync(tenant, ct);
            pending = (await VersionsAsync(tenant, pending, ct)).Where(v => versions.GetValueOrDefault(v.Key) != v.Value).Select(v => v.Key).ToList();
            if (pending.Count > 0 && _time.GetUtcNow() > deadline)
                throw new TimeoutException($"{pending.Count} streams were still being appended to {CatchUpLimit} after the rebuild; start it again.");
        }
        return done.Count;
    }

    /// The tenant's documents nothing wrote since the rebuild began belong to no stream's events (written out of
    /// band): they go.
    private async Task<long> DeleteOrphansAsync(string tenant, DateTimeOffset startedAt, CancellationToken ct)
    {
        long deleted = 0;
        foreach (var model in _models)
        {
            await using var command = _databases.For(tenant).CreateCommand($"delete from {model.Table} where tenant_id = @tenant and mt_last_modified < @started");
            command.Parameters.AddWithValue("tenant", tenant);
            command.Parameters.AddWithValue("started", startedAt);
            deleted += await command.ExecuteNonQueryAsync(ct);
        }
        return deleted;
    }

    /// Waits until the transactions that hold a transaction id now (writers) have committed or rolled back.
    private async Task WaitForWritersInFlightAsync(string tenant, CancellationToken ct)
    {
        await using var connection = await _databases.For(tenant).OpenConnectionAsync(ct);
        await using var open = new NpgsqlCommand("select coalesce(string_agg(x::text, ','), '') from pg_snapshot_xip(pg_current_snapshot()) x", connection);
        var writers = (string)(await open.ExecuteScalarAsync(ct))!;
        if (writers.Length == 0) return;
        await using var running = new NpgsqlCommand(
            "select count(*) from unnest(string_to_array(@writers, ',')::xid8[]) x where pg_xact_status(x) = 'in progress'", connection);
        running.Parameters.AddWithValue("writers", writers);
        var deadline = _time.GetUtcNow() + WritersWait;
        while ((long)(await running.ExecuteScalarAsync(ct))! > 0 && _time.GetUtcNow() < deadline) await Task.Delay(20, ct);
    }

    private async Task<List<Guid>> StreamsAfterAsync(string tenant, Guid after, CancellationToken ct)
    {
        await using var command = _databases.For(tenant).CreateCommand(
            $"select id from {Streams} where tenant_id = @tenant and id > @id order by id limit {StreamsPerBatch}");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("id", after);
        return await ReadStreamsAsync(command, ct);
    }

    private async Task<List<Guid>> StreamsAppendedAfterAsync(string tenant, long mark, CancellationToken ct)
    {
        await using var command = _databases.For(tenant).CreateCommand($"select distinct stream_id from {Events} where seq_id > @mark and tenant_id = @tenant");
        command.Parameters.AddWithValue("mark", mark);
        command.Parameters.AddWithValue("tenant", tenant);
        return await ReadStreamsAsync(command, ct);
    }

    private static async Task<List<Guid>> ReadStreamsAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var streams = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) streams.Add(reader.GetGuid(0));
        return streams;
    }

    private async Task<Dictionary<Guid, long>> VersionsAsync(string tenant, List<Guid> streams, CancellationToken ct)
    {
        await using var command = _databases.For(tenant).CreateCommand($"select id, version from {Streams} where tenant_id = @tenant and id = any(@ids)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("ids", streams.ToArray());
        var versions = new Dictionary<Guid, long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) versions[reader.GetGuid(0)] = reader.GetInt64(1);
        return versions;
    }

    private async Task SaveAsync(ProjectionRebuild rebuild, CancellationToken ct)
    {
        await using var session = _store.LightweightSession();
        session.Store(rebuild);
        await session.SaveChangesAsync(ct);
    }

    /// How many events the tenant has, the highest sequence of all (appends after it are caught up), and the
    /// database's clock (the one documents are stamped by).
    private static async Task<(long Count, long Highest, DateTimeOffset Now)> StartingPointAsync(NpgsqlConnection connection, string tenant,
        CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select (select count(*) from {Events} where tenant_id = @tenant), (select coalesce(max(seq_id), 0) from {Events}), now()", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2));
    }

    private async Task ReleaseAsync(NpgsqlConnection connection, string tenantId)
    {
        try
        {
            await using var release = new NpgsqlCommand($"select pg_advisory_unlock({LockKeyFor(tenantId)})", connection);
            await release.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            _logger.LogWarning("Could not release the rebuild lock: {Reason}", ex.Message);
        }
        await connection.DisposeAsync();
    }

    private static bool IsSingleStream(Type? type)
    {
        for (; type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(SingleStreamProjection<,>)) return true;
        return false;
    }

    private interface IReadModel
    {
        /// Its table, qualified.
        string Table { get; }
        /// The document these events project, from scratch; null when the stream carries none of its events.
        ValueTask<object?> ProjectAsync(IQuerySession session, IReadOnlyList<IEvent> events, CancellationToken ct);
    }

    private sealed class ReadModel<T>(StoreOptions options) : IReadModel where T : class
    {
        private readonly IAggregator<T, IQuerySession> _aggregator = options.Projections.AggregatorFor<T>();
        public string Table { get; } = ((IReadOnlyStoreOptions)options).FindOrResolveDocumentType(typeof(T)).TableName.QualifiedName;

        public async ValueTask<object?> ProjectAsync(IQuerySession session, IReadOnlyList<IEvent> events, CancellationToken ct) =>
            await _aggregator.BuildAsync(events, session, null!, ct);
    }
}
