using Enate.Domain.Platform;
using Enate.Domain;
using Enate.Domain.Runs;
using Npgsql;

namespace Enate.Workers.Runs;

/// Deletes the Idempotency-Keys older than `Enate:Idempotency:KeepFor`, so the table holds about one window of keys.
/// A request with an expired key that is not deleted yet treats it as gone (RunStarter), so the sweep decides nothing.
public sealed class ExpiredKeys(TenantDatabases databases, IConfiguration configuration, TimeProvider clock, ILogger<ExpiredKeys> logger)
    : Platform.Sweeper(configuration.GetValue("Enate:Idempotency:SweepEvery", TimeSpan.FromMinutes(10)), logger)
{
    private const int Batch = 5000;
    private readonly IdempotencyWindow _window = new(configuration.GetValue(IdempotencyWindow.Setting, IdempotencyWindow.Default));

    public static readonly string Sql =
        $"delete from {EnateStore.Schema}.mt_doc_runidempotency where ctid in (" +
        $"select ctid from {EnateStore.Schema}.mt_doc_runidempotency where (data ->> 'createdAt')::timestamptz <= @cutoff limit {Batch})";

    protected override Task RoundAsync(CancellationToken ct) => SweepAsync(ct);

    /// Deletes every expired key, a batch per transaction; the number deleted.
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var cutoff = _window.Cutoff(clock.GetUtcNow());
        var total = 0;
        await OnEachAsync(databases.All, async database =>
        {
            while (true)
            {
                await using var command = database.Source.CreateCommand(Sql);
                command.Parameters.AddWithValue("cutoff", cutoff);
                var deleted = await command.ExecuteNonQueryAsync(ct);
                total += deleted;
                if (deleted < Batch) break;
            }
        });
        return total;
    }
}
