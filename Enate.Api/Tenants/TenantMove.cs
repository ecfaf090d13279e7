using Enate.Domain;
using Enate.Domain.Platform;
using Npgsql;

namespace Enate.Api.Tenants;

/// Moves a tenant's data from one database to another (docs/operations.md, "Moving a tenant"): every row of the
/// platform's schema that carries the tenant's id — events, streams, read models, recipes, connections with their
/// encrypted secrets, the audit chain and its checkpoints — copied as it is, sequence numbers included, so the chain
/// and the witness's checkpoints verify after the move exactly as before it. The copy commits in the target database
/// first; only then are the rows deleted from the source, so a failure at any point leaves the tenant whole in one of
/// the two. It refuses a tenant that is not disabled, one with runs not finished or messages still queued, and a
/// target that already holds any of the tenant's rows.
public sealed class TenantMove(TenantDatabases databases, TextWriter log)
{
    public sealed class Refused(string reason) : Exception(reason);

    private const string Streams = $"{EnateStore.Schema}.mt_streams";

    /// Moves the tenant from the database the configuration places it in now to the named one; the rows moved per table.
    public async Task<IReadOnlyDictionary<string, long>> MoveAsync(string tenant, string to, CancellationToken ct)
    {
        var from = databases.NameOf(tenant);
        if (from == to) throw new Refused($"Tenant '{tenant}' is in '{to}' already: place it where it is now (Enate:Tenancy:Tenants) and name where it goes.");
        if (databases.All.All(d => d.Name != to)) throw new Refused($"No database '{to}': name one of {string.Join(", ", databases.All.Select(d => d.Name))}.");
        var source = databases.All.Single(d => d.Name == from).Source;
        var target = databases.All.Single(d => d.Name == to).Source;

        await CheckQuietAsync(tenant, source, ct);
        var tables = await TablesAsync(source, ct);
        await using var targetConnection = await target.OpenConnectionAsync(ct);
        var targetTables = await TablesAsync(targetConnection, ct);
        if (tables.Keys.Except(targetTables.Keys).ToList() is { Count: > 0 } missing)
            throw new Refused($"'{to}' has no table {string.Join(", ", missing)}: run the move with the same version of the platform that wrote '{from}'.");
        foreach (var table in tables.Keys)
            if (await CountAsync(targetConnection, table, tenant, ct) > 0)
                throw new Refused($"'{to}' holds rows of tenant '{tenant}' already ({table}): delete them there, or finish the move by hand.");

        await using var sourceConnection = await source.OpenConnectionAsync(ct);
        var moved = new Dictionary<string, long>();
        await using (var transaction = await targetConnection.BeginTransactionAsync(ct))
        {
            foreach (var (table, columns) in tables)
            {
                var list = string.Join(", ", columns.Select(c => $"\"{c}\""));
                await using (var reader = await sourceConnection.BeginRawBinaryCopyAsync(
                                 $"copy (select {list} from {table} where tenant_id = {Literal(tenant)}) to stdout (format binary)", ct))
                await using (var writer = await targetConnection.BeginRawBinaryCopyAsync($"copy {table} ({list}) from stdin (format binary)", ct))
                    await reader.CopyToAsync(writer, ct);
                moved[table] = await CountAsync(targetConnection, table, tenant, ct);
                log.WriteLine($"{table}: {moved[table]} row(s)");
            }
            // The moved events keep their sequence numbers: the target's sequence must never hand one out again.
            long highest;
            await using (var last = new NpgsqlCommand($"select last_value from {EnateStore.Schema}.mt_events_sequence", sourceConnection))
                highest = (long)(await last.ExecuteScalarAsync(ct))!;
            await using (var advance = new NpgsqlCommand(
                $"select setval('{EnateStore.Schema}.mt_events_sequence', greatest(@highest, (select last_value from {EnateStore.Schema}.mt_events_sequence)))",
                targetConnection, transaction))
            {
                advance.Parameters.AddWithValue("highest", highest);
                await advance.ExecuteNonQueryAsync(ct);
            }
            foreach (var table in tables.Keys)
            {
                var there = await CountAsync(sourceConnection, table, tenant, ct);
                if (there != moved[table]) throw new InvalidOperationException($"{table}: {there} row(s) in '{from}' but {moved[table]} copied; nothing was moved.");
            }
            await transaction.CommitAsync(ct);
        }
        log.WriteLine($"Copied to '{to}'; deleting from '{from}'.");

        await using (var transaction = await sourceConnection.BeginTransactionAsync(ct))
        {
            // Events refer to their streams: they go first here, as the streams went first into the target.
            foreach (var table in tables.Keys.Reverse())
            {
                await using var delete = new NpgsqlCommand($"delete from {table} where tenant_id = @tenant", sourceConnection, transaction);
                delete.Parameters.AddWithValue("tenant", tenant);
                await delete.ExecuteNonQueryAsync(ct);
            }
            await transaction.CommitAsync(ct);
        }
        log.WriteLine($"Tenant '{tenant}' is in '{to}'. Set Enate:Tenancy:Tenants:{tenant} = {to} for the API and the Workers, start them, and enable the tenant.");
        return moved;
    }

    /// Nothing of the tenant may be in motion: it is disabled (no trigger is accepted), its runs have all finished, and no
    /// message in the queues or the inbox names it.
    private async Task CheckQuietAsync(string tenant, NpgsqlDataSource source, CancellationToken ct)
    {
        await using (var disabled = databases.PlatformSource.CreateCommand(
                         $"select data ->> 'disabledAt' is not null from {EnateStore.Schema}.mt_doc_tenant where id = @tenant"))
        {
            disabled.Parameters.AddWithValue("tenant", tenant);
            if (await disabled.ExecuteScalarAsync(ct) is not true)
                throw new Refused($"Tenant '{tenant}' is not a disabled tenant: disable it first (POST /api/v1/tenants/{tenant}/disable), so nothing new arrives while it moves.");
        }
        await using (var unfinished = source.CreateCommand(
                         $"select count(*) from {EnateStore.Schema}.mt_doc_runsummary where tenant_id = @tenant and data ->> 'status' in ('requested', 'running', 'waiting')"))
        {
            unfinished.Parameters.AddWithValue("tenant", tenant);
            if ((long)(await unfinished.ExecuteScalarAsync(ct))! is var count and > 0)
                throw new Refused($"Tenant '{tenant}' has {count} run(s) not finished: let the Workers finish them, then move it.");
        }
        var queued = 0L;
        var name = Literal(tenant);
        var tables = new List<string> { $"{EnateStore.WolverineSchema}.wolverine_incoming_envelopes", $"{EnateStore.WolverineSchema}.wolverine_outgoing_envelopes" };
        await using (var queues = source.CreateCommand("select table_name from information_schema.tables where table_schema = @schema"))
        {
            queues.Parameters.AddWithValue("schema", EnateStore.QueueSchema);
            await using var reader = await queues.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) tables.Add($"{EnateStore.QueueSchema}.{reader.GetString(0)}");
        }
        foreach (var table in tables)
        {
            var handled = table.EndsWith("incoming_envelopes") ? " and status <> 'Handled'" : "";
            await using var count = source.CreateCommand($"select count(*) from {table} where position(convert_to({name}, 'UTF8') in body) > 0{handled}");
            try
            {
                queued += (long)(await count.ExecuteScalarAsync(ct))!;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // Wolverine makes its tables at start: a database it never ran on holds no message.
            }
        }
        if (queued > 0)
            throw new Refused($"{queued} queued message(s) may name tenant '{tenant}' (a scheduled retry, a notification): wait until they are handled, then move it.");
    }

    /// The tables of the platform's schema whose rows carry a tenant, with their columns in order.
    private static async Task<Dictionary<string, List<string>>> TablesAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        return await TablesAsync(connection, ct);
    }

    private static async Task<Dictionary<string, List<string>>> TablesAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "select c.table_name, c.column_name from information_schema.columns c join information_schema.tables t " +
            "on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE' " +
            "where c.table_schema = @schema and exists (select 1 from information_schema.columns k where k.table_schema = c.table_schema " +
            "and k.table_name = c.table_name and k.column_name = 'tenant_id') order by c.table_name, c.ordinal_position", connection);
        command.Parameters.AddWithValue("schema", EnateStore.Schema);
        var tables = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                var table = $"{EnateStore.Schema}.{reader.GetString(0)}";
                if (!tables.TryGetValue(table, out var columns)) tables[table] = columns = [];
                columns.Add(reader.GetString(1));
            }
        // The streams first: the events' foreign key names them.
        return tables.OrderBy(t => t.Key == Streams ? 0 : 1).ThenBy(t => t.Key, StringComparer.Ordinal)
            .ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string table, string tenant, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"select count(*) from {table} where tenant_id = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenant);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static string Literal(string value) => $"'{value.Replace("'", "''")}'";
}
