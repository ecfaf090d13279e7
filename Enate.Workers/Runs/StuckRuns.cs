using Enate.Domain;
using Enate.Domain.Platform;
using Npgsql;
using Wolverine.Runtime;

namespace Enate.Workers.Runs;

/// The safety net behind the engine, not its mechanism: every run ends or has a message that moves it on (the next
/// step, a scheduled retry), and this sweeper looks for any run it finds otherwise: unfinished, untouched for
/// `Enate:Workers:StuckAfter` (default 15 minutes), or a retry overdue by as much, with no message in the Workers'
/// inbox, outbox or queues (due now or later) that names it. One whose message is in Wolverine's dead letters was set
/// aside after its retries, and recording its failure did not happen (the database still failed, or the process died in
/// between): the sweeper records it now, as the dead-lettering would have. Any other is reported (log and metric
/// `enate.runs.stuck`) and left as it is: a stuck run is a defect to look at, and the report is what makes it seen. One
/// replica sweeps at a time.
public sealed class StuckRuns(TenantDatabases databases, IWolverineRuntime runtime, IConfiguration configuration, ILogger<StuckRuns> logger)
    : Platform.Sweeper(configuration.GetValue("Enate:Workers:StuckCheckEvery", TimeSpan.FromMinutes(1)), logger)
{
    private const long LockKey = 0x456e617465537475; // "EnateStu"
    private readonly TimeSpan _after = configuration.GetValue("Enate:Workers:StuckAfter", TimeSpan.FromMinutes(15));

    /// What a run set aside is recorded with.
    public const string SetAside =
        "The run could not go on: its message failed through every retry and was set aside; its operators have the details.";

    /// Unfinished runs, quiet for longer than the threshold (a waiting run: overdue by it), that no message names, and
    /// whether their message is in the dead letters (not marked for replay), those first: one scan of the run
    /// summaries a round.
    public static readonly string Sql =
        "select r.tenant_id, r.id, r.data ->> 'status', " +
        $"exists (select 1 from {EnateStore.WolverineSchema}.wolverine_dead_letters d " +
        "        where position(convert_to(r.id::text, 'UTF8') in d.body) > 0 and d.replayable is not true) " +
        $"from {EnateStore.Schema}.mt_doc_runsummary r " +
        "where r.data ->> 'status' in ('requested', 'running', 'waiting') " +
        "and case when r.data ->> 'status' = 'waiting' then (r.data ->> 'nextAttemptAt')::timestamptz < now() - @after " +
        "         else r.mt_last_modified < now() - @after end " +
        $"and not exists (select 1 from {EnateStore.WolverineSchema}.wolverine_incoming_envelopes i " +
        "                 where position(convert_to(r.id::text, 'UTF8') in i.body) > 0 and i.status <> 'Handled') " +
        $"and not exists (select 1 from {EnateStore.WolverineSchema}.wolverine_outgoing_envelopes o where position(convert_to(r.id::text, 'UTF8') in o.body) > 0) " +
        string.Concat(EnateStore.RunQueueTables.Concat(EnateStore.RunQueueScheduledTables).Select(table =>
            $"and not exists (select 1 from {table} q where position(convert_to(r.id::text, 'UTF8') in q.body) > 0) ")) +
        // The runs to record first: reports of others, however many, do not hold them back.
        "order by 4 desc limit 100";

    protected override Task RoundAsync(CancellationToken ct) => SweepAsync(ct);

    /// One round over every database: the runs recorded failed, and the runs reported.
    public async Task<(int Failed, int Reported)> SweepAsync(CancellationToken ct)
    {
        var (failed, reported) = (0, 0);
        await OnEachAsync(databases.All, async database =>
        {
            var (f, r) = await SweepAsync(database.Source, ct);
            (failed, reported) = (failed + f, reported + r);
        });
        return (failed, reported);
    }

    private async Task<(int Failed, int Reported)> SweepAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        await using var connection = await database.OpenConnectionAsync(ct);
        await using (var lockCommand = new NpgsqlCommand($"select pg_try_advisory_lock({LockKey})", connection))
            if (!(bool)(await lockCommand.ExecuteScalarAsync(ct))!) return (0, 0);
        try
        {
            var (failed, reported) = (0, 0);
            foreach (var (tenant, run, status, setAside) in await QuietRunsAsync(connection, ct))
            {
                if (!setAside)
                {
                    reported++;
                    Telemetry.StuckRuns.Add(1);
                    logger.LogError("Run {RunId} of tenant {Tenant} is {Status} with nothing scheduled to move it on: a defect to report",
                        run, tenant, status);
                    continue;
                }
                try
                {
                    if (!await RunFailures.FailAsync(runtime, tenant, run, SetAside, callback: false)) continue;
                }
                catch (Exception e) when (!DatabaseErrors.IsDatabaseOrTimeout(e))
                {
                    // The run moved meanwhile (its dead letter replayed), or a defect: the next round looks again, and
                    // the Workers go on either way.
                    logger.LogError(e, "Run {RunId} of tenant {Tenant} could not be recorded failed", run, tenant);
                    continue;
                }
                failed++;
                logger.LogError("Run {RunId} of tenant {Tenant} had its message set aside in the dead letters without its failure recorded: recorded now",
                    run, tenant);
            }
            return (failed, reported);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"select pg_advisory_unlock({LockKey})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private async Task<List<(string Tenant, Guid Run, string Status, bool SetAside)>> QuietRunsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.AddWithValue("after", _after);
        var runs = new List<(string, Guid, string, bool)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) runs.Add((reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetBoolean(3)));
        return runs;
    }
}
