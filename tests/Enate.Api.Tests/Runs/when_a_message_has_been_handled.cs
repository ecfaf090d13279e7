using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// Every durable poll of a queue first looks for its rows in the Workers' inbox, so the inbox's size is paid on each
/// poll: a handled message's row is kept only a second by default (docs/decisions.md, 65), not Wolverine's five minutes.
public sealed class when_a_message_has_been_handled
{
    [Fact]
    public async Task its_inbox_row_is_gone_within_seconds_and_its_run_ran_once()
    {
        await using var platform = await OwnPlatform.StartAsync(workersSettings: new Dictionary<string, string>
        {
            ["Enate:Workers:KeepHandled"] = "00:00:01",
        });
        var runId = await platform.Api.RequestRun("order", new { order = 1 });
        await platform.Api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromSeconds(60));

        await using var connection = new NpgsqlConnection(platform.Database.ConnectionString);
        await connection.OpenAsync();
        await using var naming = new NpgsqlCommand(
            $"select count(*) from {EnateStore.WolverineSchema}.wolverine_incoming_envelopes where position(@run in body) > 0", connection);
        naming.Parameters.AddWithValue("run", System.Text.Encoding.UTF8.GetBytes(runId.ToString()));
        var left = await Eventually.Get(async () => (long)(await naming.ExecuteScalarAsync())!, count => count == 0, TimeSpan.FromSeconds(30));

        Assert.Equal(0L, left);
        Assert.Single(platform.Partner.Requests);
    }

    [Fact]
    public async Task the_inbox_is_analyzed_once_it_has_changed_enough()
    {
        // PostgreSQL plans each poll's look into the inbox from its statistics; the run-queue guard refreshes them once
        // the table has changed by a hundred rows (each run's message is inserted, marked handled and deleted).
        await using var platform = await OwnPlatform.StartAsync(workersSettings: new Dictionary<string, string>
        {
            ["Enate:Workers:KeepHandled"] = "00:00:01",
        });
        var runs = new List<Guid>();
        for (var order = 0; order < 50; order++) runs.Add(await platform.Api.RequestRun("order", new { order }));
        foreach (var run in runs) await platform.Api.WaitForRun(run, RunStatus.Succeeded, TimeSpan.FromSeconds(60));

        await using var connection = new NpgsqlConnection(platform.Database.ConnectionString);
        await connection.OpenAsync();
        // last_analyze is an ANALYZE statement's; autovacuum's own shows as last_autoanalyze.
        await using var analyzed = new NpgsqlCommand(
            $"select last_analyze is not null from pg_stat_user_tables where schemaname = '{EnateStore.WolverineSchema}' and relname = 'wolverine_incoming_envelopes'",
            connection);
        Assert.True(await Eventually.Get(async () => (bool)(await analyzed.ExecuteScalarAsync())!, done => done, TimeSpan.FromSeconds(30)));
    }
}
