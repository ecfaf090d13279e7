using Enate.Domain.Platform;
using Enate.Domain;
using Npgsql;

namespace Enate.Workers.Runs;

/// Keeps the run queues moving when a message in one is already in the Workers' inbox, keeps PostgreSQL's figures
/// for the run queues and the inbox fresh, and puts QueuePops' trigger on the run queues of each database once they exist.
///
/// Wolverine's listener moves a poll's batch of queue rows into its inbox (`wolverine_incoming_envelopes`) in one statement.
/// A row whose id was already in the inbox once failed that statement, so every poll failed and the whole queue
/// stopped — seen under stress with Wolverine 6.62. Since 6.63 Wolverine drops such a copy itself as it moves the
/// others (docs/decisions.md, 60); this guard is the net beneath, and its log line is what would show the copies
/// coming back. A queue row whose id the inbox already holds is a copy of a message the inbox has taken (handled,
/// pending or scheduled), so dropping it is the same de-duplication, done for any origin.
public sealed class RunQueueGuard(TenantDatabases databases, ILogger<RunQueueGuard> logger)
    : Platform.Sweeper(TimeSpan.FromSeconds(2), logger)
{
    /// The databases whose run queues have QueuePops' trigger.
    private readonly HashSet<string> _popsFast = [];

    // Returns what the inbox row says of itself (under which address, in which state, owned by which node, how many
    // attempts), so each warning tells where the copy came from: the origin is still unknown.
    public static string Sql(string queueTable) =>
        $"delete from {queueTable} q using {EnateStore.WolverineSchema}.wolverine_incoming_envelopes i " +
        "where q.id = i.id returning q.id, q.message_type, i.received_at, i.status, i.owner_id, i.attempts, i.execution_time, q.timestamp";

    /// Each durable poll first deletes its queue's rows that the inbox already holds, a join of the two. Both tables churn
    /// faster than autovacuum looks at them, and on stale statistics PostgreSQL walks every inbox row of the queue once a
    /// poll instead of the few queued ones (docs/decisions.md, 65). A round gives it fresh figures for those of the tables
    /// that changed by a hundred rows or more since their last look: an idle platform analyzes nothing.
    private static readonly string[] Watched = [$"{EnateStore.WolverineSchema}.wolverine_incoming_envelopes", .. EnateStore.RunQueueTables];

    private const string Changed =
        "select format('%I.%I', schemaname, relname) from pg_stat_user_tables " +
        "where format('%s.%s', schemaname, relname) = any(@tables) and n_mod_since_analyze >= 100";

    private static async Task AnalyzeChangedAsync(NpgsqlDataSource database, CancellationToken ct)
    {
        var changed = new List<string>();
        await using (var command = database.CreateCommand(Changed))
        {
            command.Parameters.AddWithValue("tables", Watched);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) changed.Add(reader.GetString(0));
        }
        if (changed.Count == 0) return;
        await using var analyze = database.CreateCommand($"analyze {string.Join(", ", changed)}");
        await analyze.ExecuteNonQueryAsync(ct);
    }

    protected override Task RoundAsync(CancellationToken ct) => OnEachAsync(databases.All, async database =>
    {
        if (!_popsFast.Contains(database.Name) && await QueuePops.EnsureAsync(database.Source, ct)) _popsFast.Add(database.Name);
        foreach (var table in EnateStore.RunQueueTables) await DropCopiesAsync(database.Source, table, ct);
        await AnalyzeChangedAsync(database.Source, ct);
    });

    private async Task DropCopiesAsync(NpgsqlDataSource database, string table, CancellationToken ct)
    {
        await using var command = database.CreateCommand(Sql(table));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            logger.LogWarning(
                "Dropped message {MessageId} ({MessageType}, queued {QueuedAt}) from {Queue}: the Workers' inbox already holds it " +
                "(received at {ReceivedAt}, {Status}, owner {Owner}, {Attempts} attempts, due {ExecutionTime}).",
                reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(7) ? null : reader.GetValue(7), table,
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? 0 : reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetValue(6));
    }
}
