using Enate.Domain;
using Enate.Domain.Audit;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;

namespace Enate.Api.Audit;

/// Rebuilds every read model from the event log with Marten's projection daemon, in the background, saving its
/// progress as it goes. One rebuild at a time across replicas (a PostgreSQL advisory lock); one whose process died
/// is reported "abandoned" and can simply be started again (a rebuild starts from scratch anyway).
public sealed class ProjectionRebuilder(IDocumentStore store, NpgsqlDataSource database, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<ProjectionRebuilder> logger)
{
    /// Saved at least this often while running; silence for <see cref="AbandonedAfter"/> means the process died.
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ShardTimeout = TimeSpan.FromHours(2);

    public const long LockKey = 0x456e617465526562; // "EnateReb"
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
