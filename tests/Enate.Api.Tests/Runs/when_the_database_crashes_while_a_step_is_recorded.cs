using Enate.Domain;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// PostgreSQL crashes while the Workers record a partner's answer: the driver fails mid-statement (an
/// ObjectDisposedException or Marten's MartenCommandException around the driver's own error), and the run must wait
/// for the database and go on, not fail.
public sealed class when_the_database_crashes_while_a_step_is_recorded
{
    [Fact]
    public async Task the_run_waits_for_it_and_succeeds_with_its_call_under_one_key()
    {
        await using var platform = await OwnPlatform.StartAsync();
        var runId = await platform.RunHeldAtThePartnerAsync(3);

        // The partner answers, and the Workers' appending of its events waits on a lock: the database crashes under that
        // statement.
        await using (var holder = new NpgsqlConnection(platform.Database.ConnectionString))
        {
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var locking = new NpgsqlCommand($"lock table {EnateStore.Schema}.mt_events in exclusive mode", holder, hold))
                await locking.ExecuteNonQueryAsync();
            platform.ReleasePartner();
            await Eventually.Get(async () =>
            {
                await using var waiting = new NpgsqlCommand(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()", holder, hold);
                return (long)(await waiting.ExecuteScalarAsync())!;
            }, n => n >= 1, TimeSpan.FromSeconds(60));
            await platform.Database.RestartAsync();
        }

        await platform.AssertSucceededUnderOneKeyAsync(runId);
    }
}
