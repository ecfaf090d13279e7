using Enate.Domain;
using Enate.Domain.Platform;
using Npgsql;

namespace Enate.Workers.Runs;

/// The safety net behind the engine, not its mechanism: every run ends or has a message that moves it on (the next
/// step, a scheduled retry), and this sweeper reports any run it finds otherwise — unfinished, untouched for
/// `Enate:Workers:StuckAfter` (default 15 minutes), or a retry overdue by as much, with no message in the Workers'
/// inbox, outbox or queues that names it. It reports (log and metric `enate.runs.stuck`) and changes nothing: a stuck run is
/// a defect to look at, and the report is what makes it seen. One replica sweeps at a time.
public sealed class StuckRuns(TenantDatabases databases, IConfiguration configuration, ILogger<StuckRuns> logger)
    : Platform.Sweeper(configuration.GetValue("Enate:Workers:StuckCheckEvery", TimeSpan.FromMinutes(1)), logger)
{
    private const long LockKey = 0x456e617465537475; // "EnateStu"
    private readonly TimeSpan _after = configuration.GetValue("Enate:Workers:StuckAfter", TimeSpan.FromMinutes(15));

    /// Unfinished runs, quiet for longer than the threshold (a waiting run: overdue by it), that no message names.
    public static readonly string Sql =
        $"select r.tenant_id, r.id, r.data ->> 'status' from {EnateStore.Schema}.mt_doc_runsummary r " +
        "where r.data ->> 'status' in ('requested', 'running', 'waiting') " +
        "and case when r.data ->> 'status' = 'waiting' then (r.data ->> 'nextAttemptAt')::timestamptz < now() - @after " +
        "         else r.mt_last_modified < now() - @after end " +
        $"and not exists (select 1 from {EnateStore.WolverineSchema}.wolverine_incoming_envelopes i " +
        "                 where position(convert_to(r.id::text, 'UTF8') in i.body) > 0 and i.status <> 'Handled') " +
        $"and not exists (select 1 from {EnateStore.WolverineSchema}.wolverine_outgoing_envelopes o where position(convert_to(r.id::text, 'UTF8') in o.body) > 0) " +
        string.Concat(EnateStore.RunQueueTables.Select(table =>
            $"and not exists (select 1 from {table} q where position(convert_to(r.id::text, 'UTF8') in q.body) > 0) ")) +
        "limit 100";

    protected override Task RoundAsync(CancellationToken ct) => OnEachAsync(databases.All, database => SweepAsync(database.Source, ct));

    private async Task SweepAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"select pg_try_advisory_lock({LockKey})", connection))
            if (!(bool)(await lockCommand.ExecuteScalarAsync(ct))!) return;
        try
        {
            await using var command = new NpgsqlCommand(Sql, connection);
            command.Parameters.AddWithValue("after", _after);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                Telemetry.StuckRuns.Add(1);
                logger.LogError("Run {RunId} of tenant {Tenant} is {Status} with nothing scheduled to move it on: a defect to report",
                    reader.GetGuid(1), reader.GetString(0), reader.GetString(2));
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }
}
