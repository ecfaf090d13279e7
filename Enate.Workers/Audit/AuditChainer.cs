using Enate.Domain.Platform;
using Enate.Domain.Audit;
using Npgsql;

namespace Enate.Workers.Audit;

/// Follows the event store and chains each new event to its tenant's previous one, in sequence order. One replica at
/// a time (a PostgreSQL advisory lock); after a restart it continues from the last chained sequence number.
///
/// A gap in the sequence is a transaction that drew the number and has not committed yet, or one that never will
/// (rolled back). Which, PostgreSQL itself answers, not a timer: with a snapshot taken together with the highest
/// sequence number visible, every number below it was drawn by a transaction that had committed by then or was
/// running then (the snapshot's in-progress list). Once every transaction of that list has finished, the events
/// below that number are all there is; a gap still there is permanent and passed. Until then the chain stops at the
/// gap, so an event that commits late — a lock wait, a stalled disk — is chained in its place, and no clock decides.
///
/// Every `Enate:Audit:CheckpointEvery` (default a minute) it also signs a checkpoint of each tenant whose chain moved
/// and hands it to the witness (AuditProof), when a signing key and a witness are configured.
public sealed class AuditChainer(TenantDatabases databases, AuditProof proof, IConfiguration configuration, ILogger<AuditChainer> logger)
    : BackgroundService
{
    /// How long the chainer waits after a round that found nothing new to chain.
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(500);
    /// How long it waits after a round that chained some events but not a full batch: while events keep coming it
    /// chains them in small rounds, so its work is spread thinly beside the runs' instead of taking a core for tens of
    /// milliseconds every half second (docs/decisions.md, 78).
    private readonly TimeSpan _busy = configuration.GetValue("Enate:Audit:ChainBusyEvery", TimeSpan.FromMilliseconds(50));
    private const int Batch = 2000;
    private readonly TimeSpan _checkpointEvery = configuration.GetValue("Enate:Audit:CheckpointEvery", TimeSpan.FromMinutes(1));


    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        foreach (var database in databases.All) await AuditChain.EnsureTableAsync(database.Source, stoppingToken);
        if (proof.Checkpointing is null) logger.LogWarning("No audit signing key or witness is configured: the chain's heads are not checkpointed.");
        var checkpointed = DateTimeOffset.UtcNow;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var chained = await ChainAsync(stoppingToken);
                if (proof.Checkpointing is not null && DateTimeOffset.UtcNow - checkpointed >= _checkpointEvery)
                {
                    var made = new List<Checkpoint>();
                    foreach (var database in databases.All) made.AddRange(await proof.CheckpointAsync(database.Source, tenant: null, wait: false, stoppingToken));
                    checkpointed = DateTimeOffset.UtcNow;
                    if (made.Count > 0) logger.LogInformation("Signed {Count} audit checkpoint(s) to {Witness}", made.Count, proof.Witness!.Describe);
                }
                if (chained == 0) await Task.Delay(Idle, stoppingToken);
                else if (chained < Batch) await Task.Delay(_busy, stoppingToken);
            }
            catch (Exception ex) when (DatabaseErrors.IsDatabaseOrTimeout(ex) && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Audit chaining paused: {Reason}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A defect, not the database: said loudly, and tried again, while the process goes on running runs.
                logger.LogError(ex, "Audit chaining failed; it is tried again in 10 s");
                await Task.Delay(TimeSpan.FromSeconds(10), stoppingToken);
            }
        }
    }

    /// Chains the next batch of settled events in each database (each has its tenants' chains and sequence); returns
    /// the most chained in one.
    public async Task<int> ChainAsync(CancellationToken ct)
    {
        var most = 0;
        // One database away does not hold up the others' chains; the round still reports it.
        await Platform.Sweeper.OnEachAsync(databases.All, async database => most = Math.Max(most, await ChainAsync(database.Source, ct)));
        return most;
    }

    private static async Task<int> ChainAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var locked = new NpgsqlCommand($"select pg_try_advisory_xact_lock({AuditChain.LockKey})", connection, transaction))
        {
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!) return 0;
        }

        long head;
        await using (var last = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {AuditChain.Table}", connection, transaction))
        {
            head = (long)(await last.ExecuteScalarAsync(ct))!;
        }

        // The snapshot and the highest number visible in it, read together.
        string snapshot;
        long visible;
        await using (var now = new NpgsqlCommand(
            $"select pg_current_snapshot()::text, coalesce((select max(seq_id) from {Domain.EnateStore.Schema}.mt_events), 0)", connection, transaction))
        await using (var reader = await now.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (snapshot, visible) = (reader.GetString(0), reader.GetInt64(1));
        }

        var events = await ReadAsync(connection, transaction, head, visible, ct);
        var take = Contiguous(events, head);
        if (take.Count < events.Count && !await InFlightAsync(connection, transaction, snapshot, ct))
        {
            // Everything drawn below `visible` has committed or never will: read again and pass the gaps that remain.
            take = await ReadAsync(connection, transaction, head, visible, ct);
        }
        if (take.Count == 0) return 0;

        var previous = new Dictionary<string, byte[]>();
        await using (var heads = new NpgsqlCommand(
            // Each tenant's head on its own: one step back along (tenant_id, seq_id). A `distinct on` over the
            // tenants read their whole chains, so chaining slowed as the chain grew (1.1 s a batch at 600k rows).
            $"select t.tenant_id, h.hash from unnest(@tenants) as t(tenant_id) cross join lateral " +
            $"(select hash from {AuditChain.Table} c where c.tenant_id = t.tenant_id order by c.seq_id desc limit 1) h",
            connection, transaction))
        {
            heads.Parameters.AddWithValue("tenants", take.Select(e => e.Tenant).Distinct().ToArray());
            await using var reader = await heads.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) previous[reader.GetString(0)] = (byte[])reader[1];
        }

        await using (var writer = await connection.BeginBinaryImportAsync(
            $"copy {AuditChain.Table} (seq_id, tenant_id, hash, previous) from stdin (format binary)", ct))
        {
            foreach (var e in take)
            {
                var prior = previous.GetValueOrDefault(e.Tenant, AuditChain.Genesis);
                var hash = AuditChain.Hash(prior, e);
                previous[e.Tenant] = hash;
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(e.Seq, NpgsqlTypes.NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(e.Tenant, NpgsqlTypes.NpgsqlDbType.Varchar, ct);
                await writer.WriteAsync(hash, NpgsqlTypes.NpgsqlDbType.Bytea, ct);
                await writer.WriteAsync(prior, NpgsqlTypes.NpgsqlDbType.Bytea, ct);
            }
            await writer.CompleteAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return take.Count;
    }

    private static async Task<List<AuditChain.Event>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long head,
        long visible, CancellationToken ct)
    {
        var events = new List<AuditChain.Event>();
        await using var read = new NpgsqlCommand(
            $"select {AuditChain.EventColumns} from {Domain.EnateStore.Schema}.mt_events e " +
            $"where e.seq_id > @head and e.seq_id <= @visible order by e.seq_id limit {Batch}", connection, transaction);
        read.Parameters.AddWithValue("head", head);
        read.Parameters.AddWithValue("visible", visible);
        await using var reader = await read.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) events.Add(AuditChain.Event.Read(reader));
        return events;
    }

    /// The events up to the first gap after the head.
    private static List<AuditChain.Event> Contiguous(List<AuditChain.Event> events, long head)
    {
        var take = new List<AuditChain.Event>();
        foreach (var e in events)
        {
            if (e.Seq != head + 1) break;
            take.Add(e);
            head = e.Seq;
        }
        return take;
    }

    /// Whether a transaction that was running when the snapshot was taken is running still.
    private static async Task<bool> InFlightAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string snapshot, CancellationToken ct)
    {
        await using var running = new NpgsqlCommand(
            "select exists (select 1 from pg_snapshot_xip(@snapshot::pg_snapshot) x where pg_xact_status(x) = 'in progress')", connection, transaction);
        running.Parameters.AddWithValue("snapshot", snapshot);
        return (bool)(await running.ExecuteScalarAsync(ct))!;
    }
}
