using Enate.Domain.Platform;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Npgsql;

namespace Enate.Domain.Connections;

/// When a connection last answered a call well and when it last failed, for the people who run integrations.
public sealed record ConnectionUse(DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, string? LastFailure);

/// The latest outcome of calls per tenant and connection. Calls note it in memory; the Workers write what was noted
/// every few seconds in one statement, outside any run's transaction (a row per connection updated by every run
/// would be one hot row for all of them). Rows only move forward in time, whichever replica writes last.
public sealed class ConnectionActivity
{
    public const string Table = EnateStore.Schema + ".connection_activity";
    private ConcurrentDictionary<(string Tenant, string Name), Noted> _noted = new();
    private volatile bool _collecting;

    private sealed record Noted(DateTimeOffset? SuccessAt, DateTimeOffset? FailureAt, string? Failure);

    /// Noting starts when something will write it (the Workers' writer); until then calls note nothing.
    public void StartCollecting() => _collecting = true;

    public void Succeeded(string? tenant, string name, DateTimeOffset at)
    {
        if (!_collecting || tenant is null) return;
        _noted.AddOrUpdate((tenant, name), _ => new Noted(at, null, null),
            (_, old) => old with { SuccessAt = old.SuccessAt > at ? old.SuccessAt : at });
    }

    public void Failed(string? tenant, string name, DateTimeOffset at, string failure)
    {
        if (!_collecting || tenant is null) return;
        _noted.AddOrUpdate((tenant, name), _ => new Noted(null, at, failure),
            (_, old) => old.FailureAt > at ? old : old with { FailureAt = at, Failure = failure });
    }

    public static async Task EnsureTableAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var command = database.CreateCommand(
            $"create table if not exists {Table} (tenant_id text not null, name text not null, last_success_at timestamptz, " +
            "last_failure_at timestamptz, last_failure text, primary key (tenant_id, name))");
        await command.ExecuteNonQueryAsync(ct);
    }

    /// Writes what was noted since the last write: one statement per database, newer times win. A database that fails
    /// keeps its rows noted for the next write and does not stop the others; the first failure is rethrown at the end.
    public async Task WriteAsync(TenantDatabases databases, CancellationToken ct)
    {
        if (_noted.IsEmpty) return;
        var noted = Interlocked.Exchange(ref _noted, new ConcurrentDictionary<(string Tenant, string Name), Noted>());
        Exception? failed = null;
        foreach (var rows in noted.GroupBy(r => databases.NameOf(r.Key.Tenant)))
        {
            try
            {
                await WriteAsync(databases.For(rows.First().Key.Tenant), rows.ToList(), ct);
            }
            catch (Exception e)
            {
                failed ??= e;
            }
        }
        if (failed is not null) ExceptionDispatchInfo.Capture(failed).Throw();
    }

    private async Task WriteAsync(NpgsqlDataSource database, List<KeyValuePair<(string Tenant, string Name), Noted>> rows, CancellationToken ct)
    {
        await using var command = database.CreateCommand(
            $"insert into {Table} as t (tenant_id, name, last_success_at, last_failure_at, last_failure) " +
            "select * from unnest(@tenants, @names, @successes, @failures, @reasons) " +
            "on conflict (tenant_id, name) do update set " +
            "last_success_at = greatest(t.last_success_at, excluded.last_success_at), " +
            "last_failure = case when excluded.last_failure_at > t.last_failure_at or t.last_failure_at is null then coalesce(excluded.last_failure, t.last_failure) else t.last_failure end, " +
            "last_failure_at = greatest(t.last_failure_at, excluded.last_failure_at)");
        command.Parameters.AddWithValue("tenants", rows.Select(r => r.Key.Tenant).ToArray());
        command.Parameters.AddWithValue("names", rows.Select(r => r.Key.Name).ToArray());
        command.Parameters.AddWithValue("successes", rows.Select(r => r.Value.SuccessAt?.UtcDateTime).ToArray());
        command.Parameters.AddWithValue("failures", rows.Select(r => r.Value.FailureAt?.UtcDateTime).ToArray());
        command.Parameters.AddWithValue("reasons", rows.Select(r => r.Value.Failure).ToArray());
        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch
        {
            // Not written: noted again, so the next round writes it with whatever came since.
            foreach (var ((tenant, name), note) in rows)
            {
                if (note.SuccessAt is { } success) Succeeded(tenant, name, success);
                if (note.FailureAt is { } failure) Failed(tenant, name, failure, note.Failure ?? "");
            }
            throw;
        }
    }

    /// What is known of the tenant's connections named.
    public static async Task<Dictionary<string, ConnectionUse>> ReadAsync(TenantDatabases databases, string tenant, IReadOnlyCollection<string> names,
        CancellationToken ct)
    {
        var found = new Dictionary<string, ConnectionUse>();
        if (names.Count == 0) return found;
        var database = databases.For(tenant);
        await EnsureTableAsync(database, ct);
        await using var command = database.CreateCommand(
            $"select name, last_success_at, last_failure_at, last_failure from {Table} where tenant_id = @tenant and name = any(@names)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("names", names.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found[reader.GetString(0)] = new ConnectionUse(
                reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetString(3));
        return found;
    }

    /// A deleted connection's history goes with it: a new one by the same name starts with none.
    public static async Task ForgetAsync(TenantDatabases databases, string tenant, string name, CancellationToken ct)
    {
        var database = databases.For(tenant);
        await EnsureTableAsync(database, ct);
        await using var command = database.CreateCommand($"delete from {Table} where tenant_id = @tenant and name = @name");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("name", name);
        await command.ExecuteNonQueryAsync(ct);
    }
}
