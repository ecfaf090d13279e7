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
        var runId = await platform.RunHeldAtThePartnerAsync(4);

        await platform.Workers.StopAsync();
        platform.ReleasePartner();
        var next = await AppFixture.StartWorkersAsync(platform.Database.ConnectionString);
        try
        {
            await platform.AssertSucceededUnderOneKeyAsync(runId);
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
