extern alias workers;
using Enate.Domain;
using Enate.Testing;
using Npgsql;
using QueuePops = workers::Enate.Workers.Runs.QueuePops;

namespace Enate.Api.Tests.Runs;

/// A pop of the run queues commits without waiting for the disk; every other transaction waits as it always has
/// (docs/decisions.md, 70).
public sealed class when_a_listener_pops_the_run_queue(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_workers_put_the_trigger_on_every_run_queue()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var tables = await Eventually.Get(async () =>
        {
            await using var command = new NpgsqlCommand(
                "select count(*) from pg_trigger where tgname = @name and tgrelid = any(array(select to_regclass(t) from unnest(@tables) t))",
                connection);
            command.Parameters.AddWithValue("name", QueuePops.Trigger);
            command.Parameters.AddWithValue("tables", EnateStore.RunQueueTables);
            return (long)(await command.ExecuteScalarAsync())!;
        }, count => count == EnateStore.RunQueueTables.Length);
        Assert.Equal(EnateStore.RunQueueTables.Length, tables);
    }

    [Theory]
    [InlineData(EnateStore.RunQueueTable)]
    [InlineData(EnateStore.ReplayQueueTable)]
    public async Task a_transaction_that_deletes_from_a_run_queue_commits_without_waiting_for_the_disk(string table)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        // The test server flushes nothing; this session commits as a durable server's would.
        await using (var durable = new NpgsqlCommand("set synchronous_commit = on", connection)) await durable.ExecuteNonQueryAsync();
        await using var ensure = new NpgsqlCommand(QueuePops.Sql, connection);
        Assert.Equal(EnateStore.RunQueueTables.Length, (int)(await ensure.ExecuteScalarAsync())!);

        Assert.Equal("off", await SettingAfterAsync(connection, $"delete from {table} where false"));
        // Writes elsewhere, and reads of the queue, are flushed before their commit returns.
        Assert.Equal("on", await SettingAfterAsync(connection, $"select count(*) from {table}"));
        Assert.Equal("on", await SettingAfterAsync(connection, "create temp table probe (x int); insert into probe values (1); delete from probe"));
    }

    /// The `synchronous_commit` a transaction would commit with after the statement; rolled back.
    private static async Task<string> SettingAfterAsync(NpgsqlConnection connection, string statement)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(statement, connection, transaction)) await command.ExecuteNonQueryAsync();
        await using var show = new NpgsqlCommand("show synchronous_commit", connection, transaction);
        var setting = (string)(await show.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();
        return setting;
    }
}
