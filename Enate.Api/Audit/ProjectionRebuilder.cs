using Enate.Domain;
using Enate.Domain.Audit;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Aggregation;
using Npgsql;
using Weasel.Storage;
using SessionOptions = Marten.Services.SessionOptions;

namespace Enate.Api.Audit;

/// Rebuilds every read model from the event log with Marten's projection daemon, in the background, saving its
/// progress as it goes. The read models are inline projections and appends carry on meanwhile, so the daemon
/// overwrites documents in place instead of deleting them first (a live append whose document had vanished would
/// fail), the streams appended to during the rebuild are then projected again from their events, and documents
/// no stream produces are deleted last. One rebuild at a time across replicas (a PostgreSQL advisory lock); one
/// whose process died is reported "abandoned" and can simply be started again.
public sealed class ProjectionRebuilder(IDocumentStore store, NpgsqlDataSource database, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<ProjectionRebuilder> logger)
{
    /// Saved at least this often while running; silence for <see cref="AbandonedAfter"/> means the process died.
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ShardTimeout = TimeSpan.FromHours(2);

    public const long LockKey = 0x456e617465526562; // "EnateReb"
    private const int CatchUpBatch = 50;
    /// Longer than any append transaction takes: one in flight when a stream's version is read has committed by then.
    private static readonly TimeSpan CatchUpSettle = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromMinutes(2);
    /// Transactions in flight when the rebuild starts began at most this long before (their events carry that time).
    private static readonly TimeSpan InFlight = TimeSpan.FromSeconds(10);
    private static readonly string Events = $"{EnateStore.Schema}.mt_events";

    public IReadOnlyList<string> ProjectionNames => store.Options.Events.Projections().Select(p => p.Name).Distinct().ToList();

    /// Null when a rebuild is running already, here or on another replica.
    public async Task<ProjectionRebuild?> StartAsync(string tenantId, string requestedBy, CancellationToken ct)
    {
        // Held on its own connection for as long as the rebuild runs; a process that dies lets go of it.
        var connection = await database.OpenConnectionAsync(ct);
        try
        {
            await using (var take = new NpgsqlCommand($"select pg_try_advisory_lock({LockKey})", connection))
            {
                if (!(bool)(await take.ExecuteScalarAsync(ct))!)
                {
                    await connection.DisposeAsync();
                    return null;
                }
            }

            var names = ProjectionNames;
            var (count, highest, now) = await StartingPointAsync(connection, ct);
            var rebuild = new ProjectionRebuild
            {
                Id = Guid.CreateVersion7(), Projections = [.. names], Total = count * names.Count, TenantId = tenantId,
                RequestedBy = requestedBy, StartedAt = now, UpdatedAt = time.GetUtcNow(),
            };
            await SaveAsync(rebuild, ct);
            _ = Task.Run(() => RunAsync(rebuild, highest, connection), CancellationToken.None);
            return rebuild;
        }
        catch
        {
            await ReleaseAsync(connection);
            throw;
        }
    }

    /// The saved state, with a "running" rebuild that stopped reporting shown as abandoned.
    public ProjectionRebuild Reported(ProjectionRebuild rebuild)
    {
        if (rebuild.Status == RebuildStatus.Running && time.GetUtcNow() - rebuild.UpdatedAt > AbandonedAfter)
            rebuild.Status = RebuildStatus.Abandoned;
        return rebuild;
    }

    private async Task RunAsync(ProjectionRebuild rebuild, long highest, NpgsqlConnection held)
    {
        var ct = lifetime.ApplicationStopping;
        try
        {
            using (var daemon = await store.BuildProjectionDaemonAsync(logger: logger))
            {
                var perProjection = rebuild.Total / Math.Max(1, rebuild.Projections.Count);
                for (var i = 0; i < rebuild.Projections.Count; i++)
                {
                    var progress = new ShardProgress(rebuild.Projections[i]);
                    using var subscription = daemon.Tracker.Subscribe(progress);
                    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var reporter = ReportAsync(rebuild, progress, i * perProjection, highest, stop.Token);
                    try
                    {
                        await daemon.RebuildProjectionAsync(rebuild.Projections[i], ShardTimeout, ct);
                    }
                    finally
                    {
                        await stop.CancelAsync();
                        await reporter;
                    }
                }
            }
            rebuild.EventsProcessed = rebuild.Total;
            rebuild.StreamsCaughtUp = await CatchUpAsync(highest, rebuild.StartedAt - InFlight, ct);
            rebuild.OrphansDeleted = await DeleteOrphansAsync(rebuild.StartedAt, ct);
            rebuild.Status = RebuildStatus.Succeeded;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Rebuild {RebuildId} failed", rebuild.Id);
            rebuild.Status = RebuildStatus.Failed;
            rebuild.Error = ex.Message;
        }
        finally
        {
            rebuild.FinishedAt = rebuild.UpdatedAt = time.GetUtcNow();
            try
            {
                await SaveAsync(rebuild, CancellationToken.None);
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Could not save the end of rebuild {RebuildId}", rebuild.Id);
            }
            await ReleaseAsync(held);
        }
    }

    /// The daemon may overwrite a document with its state as of the rebuild's start after a live append updated it, so
    /// every stream appended to since shortly before the rebuild began (a transaction then in flight included) is
    /// projected again from all its events. An append racing that (it read the document before it was replaced) moves the stream's version:
    /// such streams are projected again, after a pause for transactions in flight, until none moved.
    private async Task<int> CatchUpAsync(long mark, DateTimeOffset since, CancellationToken ct)
    {
        var types = ReadModelTypes(singleStreamOnly: true);
        var reproject = typeof(ProjectionRebuilder).GetMethod(nameof(ReprojectAsync),
            System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

        var pending = await StreamsAppendedSinceAsync(mark, since, ct);
        var done = new HashSet<(Guid Stream, string Tenant)>();
        var deadline = time.GetUtcNow() + CatchUpLimit;
        while (pending.Count > 0)
        {
            var versions = await VersionsAsync(pending, ct);
            foreach (var group in pending.GroupBy(s => s.Tenant))
            foreach (var chunk in group.Select(s => s.Stream).Chunk(CatchUpBatch))
            foreach (var type in types)
                await (Task)reproject.MakeGenericMethod(type).Invoke(this, [group.Key, chunk, ct])!;
            done.UnionWith(pending);
            await Task.Delay(CatchUpSettle, ct);
            pending = (await VersionsAsync(pending, ct)).Where(v => versions.GetValueOrDefault(v.Key) != v.Value).Select(v => v.Key).ToList();
            if (pending.Count > 0 && time.GetUtcNow() > deadline)
                throw new TimeoutException($"{pending.Count} streams were still being appended to {CatchUpLimit} after the rebuild; start it again.");
        }
        return done.Count;
    }

    /// Documents nothing wrote since the rebuild began belong to no stream's events (the rebuild rewrites every one,
    /// without deleting first, so that live appends always find their document): they go.
    private async Task<long> DeleteOrphansAsync(DateTimeOffset startedAt, CancellationToken ct)
    {
        long deleted = 0;
        foreach (var type in ReadModelTypes(singleStreamOnly: false))
        {
            var table = store.Options.FindOrResolveDocumentType(type).TableName.QualifiedName;
            await using var command = database.CreateCommand($"delete from {table} where mt_last_modified < @started");
            command.Parameters.AddWithValue("started", startedAt);
            deleted += await command.ExecuteNonQueryAsync(ct);
        }
        return deleted;
    }

    private List<Type> ReadModelTypes(bool singleStreamOnly) => store.Options.Events.Projections()
        .Where(source => !singleStreamOnly || IsSingleStream(source.ImplementationType))
        .OfType<IPublishesTypes>().SelectMany(source => source.PublishedTypes()).Distinct().ToList();

    private async Task ReprojectAsync<T>(string tenant, Guid[] streams, CancellationToken ct) where T : class
    {
        await using var session = store.LightweightSession(new SessionOptions { TenantId = tenant, ConcurrencyChecks = ConcurrencyChecks.Disabled });
        foreach (var stream in streams)
        {
            // Null when the stream carries no event of this read model (an inbound request for a run summary).
            var document = await session.Events.AggregateStreamAsync<T>(stream, token: ct);
            if (document is not null) session.Store(document);
        }
        await session.SaveChangesAsync(ct);
    }

    private async Task<List<(Guid Stream, string Tenant)>> StreamsAppendedSinceAsync(long mark, DateTimeOffset since, CancellationToken ct)
    {
        await using var command = database.CreateCommand(
            $"select distinct stream_id, tenant_id from {Events} where seq_id > @mark or timestamp >= @since");
        command.Parameters.AddWithValue("mark", mark);
        command.Parameters.AddWithValue("since", since);
        var streams = new List<(Guid, string)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) streams.Add((reader.GetGuid(0), reader.GetString(1)));
        return streams;
    }

    private async Task<Dictionary<(Guid Stream, string Tenant), long>> VersionsAsync(List<(Guid Stream, string Tenant)> streams, CancellationToken ct)
    {
        await using var command = database.CreateCommand($"select id, tenant_id, version from {EnateStore.Schema}.mt_streams where id = any(@ids)");
        command.Parameters.AddWithValue("ids", streams.Select(s => s.Stream).Distinct().ToArray());
        var wanted = streams.ToHashSet();
        var versions = new Dictionary<(Guid, string), long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var key = (reader.GetGuid(0), reader.GetString(1));
            if (wanted.Contains(key)) versions[key] = reader.GetInt64(2);
        }
        return versions;
    }

    private static bool IsSingleStream(Type? type)
    {
        for (; type is not null; type = type.BaseType)
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(SingleStreamProjection<,>)) return true;
        return false;
    }

    /// Saves the count of events up to the sequence the daemon has reached, every second.
    private async Task ReportAsync(ProjectionRebuild rebuild, ShardProgress progress, long done, long highest, CancellationToken ct)
    {
        long reached = 0, counted = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(ProgressInterval, ct);
                var sequence = Math.Min(progress.Sequence, highest);
                if (sequence > reached)
                {
                    await using var connection = await database.OpenConnectionAsync(ct);
                    counted += (await CountAsync(connection, reached, sequence, ct)).Count;
                    reached = sequence;
                }
                rebuild.EventsProcessed = done + counted;
                rebuild.UpdatedAt = time.GetUtcNow();
                await SaveAsync(rebuild, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task SaveAsync(ProjectionRebuild rebuild, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.Store(rebuild);
        await session.SaveChangesAsync(ct);
    }

    /// How many events there are, the highest sequence, and the database's clock (the one event timestamps come from).
    private static async Task<(long Count, long Highest, DateTimeOffset Now)> StartingPointAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select count(*), coalesce(max(seq_id), 0), now() from {Events}", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2));
    }

    /// Events with a sequence number above `after` up to `through`, and the highest sequence among them.
    private static async Task<(long Count, long Highest)> CountAsync(NpgsqlConnection connection, long after, long through, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            $"select count(*), coalesce(max(seq_id), 0) from {Events} where seq_id > @after and seq_id <= @through", connection);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.AddWithValue("through", through);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task ReleaseAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var release = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", connection);
            await release.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            logger.LogWarning("Could not release the rebuild lock: {Reason}", ex.Message);
        }
        await connection.DisposeAsync();
    }

    /// The highest sequence the daemon reports for the projection's shards.
    private sealed class ShardProgress(string projection) : IObserver<ShardState>
    {
        private long _sequence;
        public long Sequence => Interlocked.Read(ref _sequence);

        public void OnNext(ShardState value)
        {
            if (!value.ShardName.StartsWith(projection + ":", StringComparison.Ordinal)) return;
            long seen;
            do seen = Interlocked.Read(ref _sequence);
            while (value.Sequence > seen && Interlocked.CompareExchange(ref _sequence, value.Sequence, seen) != seen);
        }

        public void OnCompleted() { }
        public void OnError(Exception error) { }
    }
}
