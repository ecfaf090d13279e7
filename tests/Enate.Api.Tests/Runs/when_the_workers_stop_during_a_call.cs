using Enate.Domain.Runs;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// A Workers replica is stopped the ordinary way (a deploy, a scale-down) while one of its runs waits on a partner:
/// the stop cancels the message's handling, and the run must be taken on by the next replica, not left behind.
public sealed class when_the_workers_stop_during_a_call
{
    [Fact]
    public async Task the_next_replica_finishes_the_run_with_its_call_under_one_key()
    {
        await using var platform = await OwnPlatform.StartAsync();
        platform.Partner.Gate = new SemaphoreSlim(0);
        var runId = await platform.Api.RequestRun("order", new { order = 4 });
        await Eventually.Get(() => Task.FromResult(platform.Partner.Requests.Count), n => n >= 1, TimeSpan.FromSeconds(60));

        await platform.Workers.StopAsync();
        platform.Partner.Gate.Release(100);
        var next = await AppFixture.StartWorkersAsync(platform.Database.ConnectionString);
        try
        {
            var run = await platform.Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(2));
            Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Reason}");
            Assert.Equal([$"{runId}:post"], platform.Partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
            await using var connection = new NpgsqlConnection(platform.Database.ConnectionString);
            await connection.OpenAsync();
            await using var dead = new NpgsqlCommand($"select count(*) from {Enate.Domain.EnateStore.WolverineSchema}.wolverine_dead_letters", connection);
            Assert.Equal(0L, (long)(await dead.ExecuteScalarAsync())!);
        }
        finally
        {
            await next.StopAsync();
            await next.DisposeAsync();
        }
    }
}
