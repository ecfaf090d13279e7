using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// Its own database, API and Workers process. PostgreSQL crashes while the Workers record a partner's answer: the
/// driver fails mid-statement (an ObjectDisposedException or Marten's MartenCommandException around the driver's own),
/// and the run must wait for the database and go on, not fail.
public sealed class when_the_database_crashes_while_a_step_is_recorded : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private IAlbaHost _api = null!;
    private TestPartner _partner = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        _api = await AppFixture.StartApiAsync(_database.ConnectionString);
        _partner = await TestPartner.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _partner.DisposeAsync();
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task the_run_waits_for_it_and_succeeds_with_its_call_under_one_key()
    {
        await _api.PutConnection("erp", _partner.BaseUrl);
        await _api.PutRecipe("outage", new
        {
            name = "Order during an outage",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });
        _partner.Gate = new SemaphoreSlim(0);
        await using var workers = WorkerProcess.Start(_database.ConnectionString);
        var runId = await _api.RequestRun("outage", new { order = 3 });
        await Eventually.Get(() => Task.FromResult(_partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));

        // The partner answers, and the Workers' appending of its events waits on a lock: the database crashes under that
        // statement.
        await using (var holder = new NpgsqlConnection(_database.ConnectionString))
        {
            await holder.OpenAsync();
            await using var hold = await holder.BeginTransactionAsync();
            await using (var locking = new NpgsqlCommand($"lock table {EnateStore.Schema}.mt_events in exclusive mode", holder, hold))
                await locking.ExecuteNonQueryAsync();
            _partner.Gate.Release(100);
            await Eventually.Get(async () =>
            {
                await using var waiting = new NpgsqlCommand(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()", holder, hold);
                return (long)(await waiting.ExecuteScalarAsync())!;
            }, n => n >= 1, TimeSpan.FromSeconds(60));
            await _database.RestartAsync();
        }

        var run = await _api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(2));
        Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Reason}");
        Assert.Equal([$"{runId}:post"], _partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
        Assert.True(_partner.SuccessesFor($"{runId}:post") >= 1);
    }
}
