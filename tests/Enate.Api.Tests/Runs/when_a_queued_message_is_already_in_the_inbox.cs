extern alias workers;
using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// Wolverine moves queued messages into the Workers' inbox twenty at a time, in one statement: one message whose id
/// the inbox already holds once made every move fail, and no run moved again (seen under stress with Wolverine 6.62).
/// Wolverine now drops such a copy as it moves the others, and RunQueueGuard stays as the net beneath. Its own
/// database and hosts: a blocked queue must not be anyone else's.
public sealed class when_a_queued_message_is_already_in_the_inbox : IAsyncLifetime
{
    private OwnPlatform _platform = null!;

    public async Task InitializeAsync() => _platform = await OwnPlatform.StartAsync();

    public async Task DisposeAsync() => await _platform.DisposeAsync();

    [Fact]
    public async Task the_copy_is_dropped_and_the_runs_behind_it_still_run()
    {
        var copy = await PlantCopyAsync();

        var runId = await _platform.Api.RequestRun("order", new { order = 1 });
        var run = await _platform.Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromSeconds(60));

        Assert.Equal(RunStatus.Succeeded, run.Status);
        await using var check = new NpgsqlConnection(_platform.Database.ConnectionString);
        await check.OpenAsync();
        await using var left = new NpgsqlCommand($"select count(*) from {EnateStore.RunQueueTable} where id = @id", check);
        left.Parameters.AddWithValue("id", copy);
        Assert.Equal(0L, (long)(await left.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task the_guard_drops_a_copy_and_says_where_the_inbox_row_came_from()
    {
        // With no listener polling, only the guard's statement can find the copy.
        await _platform.Workers.StopAsync();
        var copy = await PlantCopyAsync();

        await using var connection = new NpgsqlConnection(_platform.Database.ConnectionString);
        await connection.OpenAsync();
        await using var guard = new NpgsqlCommand(workers::Enate.Workers.Runs.RunQueueGuard.Sql(EnateStore.RunQueueTable), connection);
        await using (var reader = await guard.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(copy, reader.GetGuid(0));
            Assert.Equal("elsewhere://copy", reader.GetString(2));
            Assert.Equal("Handled", reader.GetString(3));
            Assert.Equal(0, reader.GetInt32(4));
            Assert.False(await reader.ReadAsync());
        }
        await using var left = new NpgsqlCommand($"select count(*) from {EnateStore.RunQueueTable} where id = @id", connection);
        left.Parameters.AddWithValue("id", copy);
        Assert.Equal(0L, (long)(await left.ExecuteScalarAsync())!);
    }

    /// A message the inbox took by another way, and a copy of it at the head of the run queue.
    private async Task<Guid> PlantCopyAsync()
    {
        var copy = Guid.CreateVersion7();
        await using var connection = new NpgsqlConnection(_platform.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"insert into {EnateStore.WolverineSchema}.wolverine_incoming_envelopes (id, status, owner_id, body, message_type, received_at, keep_until) " +
            "values (@id, 'Handled', 0, '\\x00', 'Enate.Domain.Runs.ExecuteRun', 'elsewhere://copy', now() + interval '1 hour'); " +
            $"insert into {EnateStore.RunQueueTable} (id, body, message_type, timestamp) values (@id, '\\x00', 'Enate.Domain.Runs.ExecuteRun', now() - interval '1 minute')",
            connection);
        command.Parameters.AddWithValue("id", copy);
        await command.ExecuteNonQueryAsync();
        return copy;
    }
}
