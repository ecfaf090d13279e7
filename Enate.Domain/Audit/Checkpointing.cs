using Npgsql;

namespace Enate.Domain.Audit;

/// Makes checkpoints: for each tenant whose chain has moved since its last checkpoint, signs its head and hands it to
/// the witness. Runs holding the chain's advisory lock (the chainer in the Workers at an interval, the API on demand),
/// so numbers are taken one at a time. `audit_checkpoints` keeps the last ones made, to number and link the next; the
/// witness, not that table, is what verification trusts.
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
            "hash varchar not null, primary key (tenant_id, number))");
        await command.ExecuteNonQueryAsync(ct);
    }

    /// Signs a checkpoint for this tenant, or for every tenant, wherever the chain moved since the last one; the caller
    /// holds the chain lock in `transaction` and commits it. Answers the checkpoints made.
    public async Task<List<Checkpoint>> SignAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? tenant, CancellationToken ct)
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
                $"insert into {Table} (tenant_id, number, seq_id, head_hash, time, previous, key_id, signature, hash) " +
                "values (@tenant, @number, @seq, @head, @time, @previous, @key, @signature, @hash)", connection, transaction);
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
            await witness.AppendAsync(checkpoint, ct);
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

    /// Signs checkpoints under the chain's advisory lock, waiting for it (the API, on demand) or not (the Workers).
    public async Task<List<Checkpoint>> CheckpointAsync(NpgsqlDataSource database, string? tenant, bool wait, CancellationToken ct)
    {
        if (Checkpointing is null) return [];
        await Checkpointing.EnsureTableAsync(database, ct);
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var locked = new NpgsqlCommand(
                         wait ? $"select pg_advisory_xact_lock({AuditChain.LockKey}) is not null" : $"select pg_try_advisory_xact_lock({AuditChain.LockKey})",
                         connection, transaction))
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!) return [];
        var made = await Checkpointing.SignAsync(connection, transaction, tenant, ct);
        await transaction.CommitAsync(ct);
        return made;
    }
}
