using Enate.Domain;
using Enate.Domain.Runs;
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
        platform.Partner.Gate = new SemaphoreSlim(0);
        var runId = await platform.Api.RequestRun("order", new { order = 3 });
        await Eventually.Get(() => Task.FromResult(platform.Partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));

        // The partner answers, and the Workers' appending of its events waits on a lock: the database crashes under that
        // statement.
        await using (var holder = new NpgsqlConnection(platform.Database.ConnectionString))
        {
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var locking = new NpgsqlCommand($"lock table {EnateStore.Schema}.mt_events in exclusive mode", holder, hold))
                await locking.ExecuteNonQueryAsync();
            platform.Partner.Gate.Release(100);
            await Eventually.Get(async () =>
            {
                await using var waiting = new NpgsqlCommand(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()", holder, hold);
                return (long)(await waiting.ExecuteScalarAsync())!;
            }, n => n >= 1, TimeSpan.FromSeconds(60));
            await platform.Database.RestartAsync();
        }

        var run = await platform.Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(2));
        Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Reason}");
        Assert.Equal([$"{runId}:post"], platform.Partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
        Assert.True(platform.Partner.SuccessesFor($"{runId}:post") >= 1);
    }
}
