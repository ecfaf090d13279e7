using Npgsql;

namespace Enate.Domain.Audit;

/// Makes checkpoints: for each tenant whose chain has moved since its last checkpoint, signs its head and hands it to
/// the witness. Runs holding the chain's advisory lock (the chainer in the Workers at an interval, the API on demand),
/// so numbers are taken and handed over one at a time. `audit_checkpoints` keeps the last ones made, to number and link
/// the next; the witness, not that table, is what verification trusts.
///
/// A checkpoint is committed to the table before the witness gets it, and marked `witnessed` after: a signing cut short
/// between the two (a killed process, a crashed database) leaves it unwitnessed, and the next signing hands it over
/// first. The witness never holds a checkpoint the table lost, so the next one never takes its number again; at worst
/// it holds one twice, which reads as once (FolderWitness).
public sealed class Checkpointing(AuditSigner signer, IWitness witness)
{
    public const string Table = EnateStore.Schema + ".audit_checkpoints";

    public AuditSigner Signer => signer;
    public IWitness Witness => witness;

    public static async Task EnsureTableAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var command = database.CreateCommand(
            $"create table if not exists {Table} (tenant_id varchar not null, number bigint not null, seq_id bigint not null, " +
            "head_hash varchar not null, time varchar not null, previous varchar not null, key_id varchar not null, signature varchar not null, " +
            "hash varchar not null, witnessed boolean not null default true, primary key (tenant_id, number)); " +
            // A table made before checkpoints were marked gets the column once (an ALTER would lock the table each time).
            "do $$ begin if not exists (select 1 from information_schema.columns where table_schema = " +
            $"'{EnateStore.Schema}' and table_name = 'audit_checkpoints' and column_name = 'witnessed') then " +
            $"alter table {Table} add column witnessed boolean not null default true; end if; end $$");
        await command.ExecuteNonQueryAsync(ct);
    }

    /// Signs a checkpoint for this tenant, or for every tenant, wherever the chain moved since the last one, and hands
    /// it to the witness after any a cut-short signing left unwitnessed; the caller holds the chain lock for the session.
    /// Answers the checkpoints made.
    public async Task<List<Checkpoint>> SignAsync(NpgsqlConnection connection, string? tenant, CancellationToken ct)
    {
        List<Checkpoint> unwitnessed, made;
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        {
            unwitnessed = await UnwitnessedAsync(connection, transaction, ct);
            made = await MakeAsync(connection, transaction, tenant, ct);
            await transaction.CommitAsync(ct);
        }
        var handed = unwitnessed.Concat(made).ToList();
        if (handed.Count == 0) return made;
        foreach (var checkpoint in handed) await witness.AppendAsync(checkpoint, ct);
        await using var mark = new NpgsqlCommand(
            $"update {Table} k set witnessed = true from unnest(@tenants, @numbers) as w(tenant_id, number) " +
            "where k.tenant_id = w.tenant_id and k.number = w.number", connection);
        mark.Parameters.AddWithValue("tenants", handed.Select(c => c.Tenant).ToArray());
        mark.Parameters.AddWithValue("numbers", handed.Select(c => c.Number).ToArray());
        await mark.ExecuteNonQueryAsync(ct);
        return made;
    }

    /// The checkpoints committed but not yet known to be with the witness, in the order they were made.
    private static async Task<List<Checkpoint>> UnwitnessedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var found = new List<Checkpoint>();
        await using var command = new NpgsqlCommand(
            $"select tenant_id, number, seq_id, head_hash, time, previous, key_id, signature from {Table} where not witnessed order by tenant_id, number",
            connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found.Add(new Checkpoint(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7)));
        return found;
    }

    /// Signs and records (unwitnessed) the checkpoints due.
    private async Task<List<Checkpoint>> MakeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? tenant, CancellationToken ct)
    {
        var tenants = tenant is null ? await TenantsAsync(connection, transaction, ct) : [tenant];
        var made = new List<Checkpoint>();
        if (tenants.Count == 0) return made;

        var due = new List<(string Tenant, long Seq, string Head, long Number, string Previous)>();
        await using (var heads = new NpgsqlCommand(
            $"select t.tenant_id, h.seq_id, h.hash, coalesce(c.number, 0), coalesce(c.seq_id, 0), coalesce(c.hash, '{Checkpoint.First}') " +
            "from unnest(@tenants) as t(tenant_id) " +
            $"cross join lateral (select seq_id, hash from {AuditChain.Table} a where a.tenant_id = t.tenant_id order by a.seq_id desc limit 1) h " +
            $"left join lateral (select number, seq_id, hash from {Table} k where k.tenant_id = t.tenant_id order by k.number desc limit 1) c on true",
            connection, transaction))
        {
            heads.Parameters.AddWithValue("tenants", tenants.ToArray());
            await using var reader = await heads.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var seq = reader.GetInt64(1);
                if (seq > reader.GetInt64(4))
                    due.Add((reader.GetString(0), seq, Convert.ToHexStringLower((byte[])reader[2]), reader.GetInt64(3) + 1, reader.GetString(5)));
            }
        }
        if (due.Count == 0) return made;

        string time;
        await using (var now = new NpgsqlCommand("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                         connection, transaction))
            time = (string)(await now.ExecuteScalarAsync(ct))!;

        foreach (var (name, seq, head, number, previous) in due)
        {
            var unsigned = new Checkpoint(name, number, seq, head, time, previous, signer.KeyId, "");
            var checkpoint = unsigned with { Signature = signer.Sign(unsigned.Canonical) };
            await using var insert = new NpgsqlCommand(
                $"insert into {Table} (tenant_id, number, seq_id, head_hash, time, previous, key_id, signature, hash, witnessed) " +
                "values (@tenant, @number, @seq, @head, @time, @previous, @key, @signature, @hash, false)", connection, transaction);
            insert.Parameters.AddWithValue("tenant", name);
            insert.Parameters.AddWithValue("number", number);
            insert.Parameters.AddWithValue("seq", seq);
            insert.Parameters.AddWithValue("head", head);
            insert.Parameters.AddWithValue("time", time);
            insert.Parameters.AddWithValue("previous", previous);
            insert.Parameters.AddWithValue("key", checkpoint.KeyId);
            insert.Parameters.AddWithValue("signature", checkpoint.Signature);
            insert.Parameters.AddWithValue("hash", checkpoint.Hash);
            await insert.ExecuteNonQueryAsync(ct);
            made.Add(checkpoint);
        }
        return made;
    }

    /// Every tenant the chain holds, one index step each (a skip scan over `(tenant_id, seq_id)`).
    private static async Task<List<string>> TenantsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var tenants = new List<string>();
        await using var command = new NpgsqlCommand(
            $"with recursive t as (select min(tenant_id) as tenant_id from {AuditChain.Table} " +
            $"union all select (select min(tenant_id) from {AuditChain.Table} c where c.tenant_id > t.tenant_id) from t where t.tenant_id is not null) " +
            "select tenant_id from t where tenant_id is not null", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) tenants.Add(reader.GetString(0));
        return tenants;
    }
}

/// What the platform proves its record with beyond the database, when configured: the signing key and the witness.
/// Without both, no checkpoints are made and verification says so.
public sealed class AuditProof(AuditSigner? signer, IWitness? witness)
{
    public AuditSigner? Signer => signer;
    public IWitness? Witness => witness;
    public Checkpointing? Checkpointing { get; } = signer is null || witness is null ? null : new Checkpointing(signer, witness);
    public IReadOnlyList<AuditKey> Keys => signer?.Keys ?? [];

    public static AuditProof From(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        new(AuditSigner.From(configuration), FolderWitness.From(configuration));

    /// Signs checkpoints under the chain's advisory lock, waiting for it (the API, on demand) or not (the Workers). The
    /// lock is the session's, held from the signing through the witness's append, so the witness gets them in order.
    public async Task<List<Checkpoint>> CheckpointAsync(NpgsqlDataSource database, string? tenant, bool wait, CancellationToken ct)
    {
        if (Checkpointing is null) return [];
        await Checkpointing.EnsureTableAsync(database, ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using (var locked = new NpgsqlCommand(
                         wait ? $"select pg_advisory_lock({AuditChain.LockKey}) is not null" : $"select pg_try_advisory_lock({AuditChain.LockKey})", connection))
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!) return [];
        try
        {
            return await Checkpointing.SignAsync(connection, tenant, ct);
        }
        finally
        {
            // A broken connection has ended its session, and the lock with it.
            try
            {
                await using var unlock = new NpgsqlCommand($"select pg_advisory_unlock({AuditChain.LockKey})", connection);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
            }
        }
    }
}
