using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Enate.Domain.Audit;

/// Tamper evidence for the event store: every event, in sequence order, gets a hash chained to the previous
/// event of the same tenant, kept in `enate.audit_chain` beside `mt_events`:
///
///     hash(n) = SHA-256( hash(n-1) ‖ UTF-8( seq \n tenant \n streamId \n version \n type \n timestamp \n data ) )
///
/// with hash(0) = 32 zero bytes per tenant, `timestamp` as ISO 8601 UTC with microseconds, and `data` the
/// event's jsonb exactly as PostgreSQL renders it as text. docs/audit.md is the reference for verifiers.
public static class AuditChain
{
    public const string Table = EnateStore.Schema + ".audit_chain";
    public static readonly byte[] Genesis = new byte[32];

    /// The advisory lock the chainer holds while it chains: one replica at a time.
    public const long LockKey = 0x456e617465417564; // "EnateAud"

    /// The event columns the canonical form is built from, rendered by PostgreSQL so every reader agrees. Marten's
    /// tombstones (type `tombstone`, written for the sequence numbers a failed transaction had taken) carry no
    /// timestamp: theirs is the empty string.
    public const string EventColumns =
        "e.seq_id, e.tenant_id, e.stream_id::text, e.version, e.type, " +
        "coalesce(to_char(e.timestamp at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''), e.data::text";

    public static async Task EnsureTableAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var command = database.CreateCommand(
            $"create table if not exists {Table} (seq_id bigint primary key, tenant_id varchar not null, " +
            "hash bytea not null, previous bytea not null, chained_at timestamptz not null default now()); " +
            $"create index if not exists audit_chain_tenant on {Table} (tenant_id, seq_id)");
        await command.ExecuteNonQueryAsync(ct);
    }

    public sealed record Event(long Seq, string Tenant, string StreamId, long Version, string Type, string Timestamp, string Data)
    {
        public static Event Read(NpgsqlDataReader reader, int offset = 0) => new(
            reader.GetInt64(offset), reader.GetString(offset + 1), reader.GetString(offset + 2), reader.GetInt64(offset + 3),
            reader.GetString(offset + 4), reader.GetString(offset + 5), reader.GetString(offset + 6));

        public string Canonical => $"{Seq}\n{Tenant}\n{StreamId}\n{Version}\n{Type}\n{Timestamp}\n{Data}";
    }

    public static byte[] Hash(byte[] previous, Event e)
    {
        var canonical = Encoding.UTF8.GetBytes(e.Canonical);
        var input = new byte[previous.Length + canonical.Length];
        previous.CopyTo(input, 0);
        canonical.CopyTo(input, previous.Length);
        return SHA256.HashData(input);
    }
}
