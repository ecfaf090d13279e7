using Enate.Domain;
using Npgsql;

namespace Enate.Workers.Runs;

/// A listener's pop of the run queues commits without waiting for its WAL to reach the disk (`synchronous_commit` off
/// for that transaction alone), so a run starts one flush sooner (docs/decisions.md, 70).
///
/// The pop moves a batch of queue rows into the Workers' inbox in one transaction. Were PostgreSQL to crash before that
/// transaction's WAL is flushed, the whole move is undone and the rows are back in the queue, to be taken again: the same
/// as a Workers process killed after its pop. Anything that happens after the pop in the database waits for its own
/// flush, which carries the pop's WAL with it (WAL is flushed in order): a run's events and its inbox mark are never
/// durable without the pop that led to them. Outside the database, a partner may have received a call of a pop that was
/// undone; the run redoes that call under the same Idempotency-Key, as after a killed process.
///
/// A trigger does it, after each statement that deletes from the run queues' tables: those deletes are the pops and
/// RunQueueGuard's dropping of copies, and both may be undone by a crash without losing anything.
/// Nothing else may delete from these tables in a transaction whose other writes must be durable.
public static class QueuePops
{
    public const string Trigger = "enate_pops_commit_async";
    private const string Function = $"{EnateStore.QueueSchema}.{Trigger}";
    private const long LockKey = 0x456e617465506f70; // "EnatePop"

    /// Installs the trigger on each run queue table that exists and does not have it; true when every table has it.
    /// Replicas serialize on an advisory lock held for the transaction.
    public static string Sql =>
        "do $install$ declare installed int := 0; queue text; begin " +
        $"perform pg_advisory_xact_lock({LockKey}); " +
        $"create or replace function {Function}() returns trigger language plpgsql as $body$ " +
        "begin perform set_config('synchronous_commit', 'off', true); return null; end $body$; " +
        $"foreach queue in array array['{string.Join("', '", EnateStore.RunQueueTables)}'] loop " +
        "  continue when to_regclass(queue) is null; " +
        $"  if not exists (select 1 from pg_trigger where tgname = '{Trigger}' and tgrelid = to_regclass(queue)) then " +
        $"    execute format('create trigger {Trigger} after delete on %s for each statement execute function {Function}()', queue); " +
        "  end if; " +
        "  installed := installed + 1; " +
        "end loop; " +
        "perform set_config('enate.pops_installed', installed::text, true); end $install$; " +
        "select current_setting('enate.pops_installed', true)::int";

    public static async Task<bool> EnsureAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand(Sql, connection, transaction);
        var installed = await command.ExecuteScalarAsync(ct);
        await transaction.CommitAsync(ct);
        return installed is int count && count == EnateStore.RunQueueTables.Length;
    }
}
