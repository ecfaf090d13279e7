extern alias workers;
using System.Text;
using System.Text.Json;
using Enate.Domain;
using Enate.Domain.Platform;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Wolverine.Runtime;
using workers::Enate.Workers.Runs;

namespace Enate.Api.Tests.Runs;

/// A run's message goes to the dead letters after its retries, and the run is recorded failed with it. When that
/// recording did not happen (the database still failed, or the Workers died in between), the run would stay running
/// with nothing to move it on. The stuck-runs sweep records it failed; a quiet run whose message is not set aside is
/// only reported. A tenant of its own, since tests share the event log but not documents.
public sealed class when_a_run_is_set_aside(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_sweep_records_its_failure_and_only_reports_a_run_it_cannot_explain()
    {
        var tenant = $"set-aside-{Guid.NewGuid():N}";
        var (setAside, unexplained, scheduled) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await using (var session = App.Store.LightweightSession(tenant))
        {
            foreach (var id in new[] { setAside, unexplained, scheduled })
                session.Events.StartStream<Run>(id,
                    new RunRequested(id, "orders", 1, "api", JsonSerializer.SerializeToElement(new { n = 1 }), null, null, null, "test",
                        DateTimeOffset.UtcNow),
                    new RunStarted(id, 1, "test", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        await Sql($"update {EnateStore.Schema}.mt_doc_runsummary set mt_last_modified = now() - interval '1 hour' where id in ('{setAside}', '{unexplained}', '{scheduled}')");
        // A message due later (a retry while the database was away) moves its run on then: neither failed nor reported.
        await Sql($"insert into {EnateStore.RunQueueScheduledTables[0]} (id, body, message_type, execution_time) values (@id, @body, 'execute-run', now() + interval '1 hour')",
            ("id", Guid.NewGuid()), ("body", Encoding.UTF8.GetBytes($$"""{"runId":"{{scheduled}}","tenantId":"{{tenant}}"}""")));
        await Sql($"insert into {EnateStore.WolverineSchema}.wolverine_dead_letters (id, body, message_type, exception_type, exception_message, replayable) " +
                  "values (@id, @body, 'execute-run', 'Npgsql.PostgresException', '42501: permission denied', false)",
            ("id", Guid.NewGuid()), ("body", Encoding.UTF8.GetBytes($$"""{"runId":"{{setAside}}","tenantId":"{{tenant}}"}""")));

        await using var database = NpgsqlDataSource.Create(App.ConnectionString);
        await using var databases = new TenantDatabases(database, new ConfigurationBuilder().Build());
        var sweep = new StuckRuns(databases, App.Workers.Services.GetRequiredService<IWolverineRuntime>(), new ConfigurationBuilder().Build(),
            NullLogger<StuckRuns>.Instance);
        // The Workers' own sweep may hold the round's lock a moment, or record the run itself: either way it ends failed.
        var failed = await Eventually.Get(async () =>
        {
            await sweep.SweepAsync(CancellationToken.None);
            return await SummaryAsync(tenant, setAside);
        }, r => r.Status == RunStatus.Failed);
        Assert.Equal(StuckRuns.SetAside, failed.Reason);
        await using (var session = App.Store.QuerySession(tenant))
            Assert.IsType<RunFailed>((await session.Events.FetchStreamAsync(setAside)).Last().Data);

        // A run with no message anywhere is reported, never changed; a second sweep records nothing more.
        var rounds = await Eventually.Get(async () => await sweep.SweepAsync(CancellationToken.None), r => r.Reported >= 1);
        Assert.Equal(0, rounds.Failed);
        Assert.Equal(1, rounds.Reported);
        Assert.Equal(RunStatus.Running, (await SummaryAsync(tenant, unexplained)).Status);
        Assert.Equal(RunStatus.Running, (await SummaryAsync(tenant, scheduled)).Status);
        await Sql($"delete from {EnateStore.RunQueueScheduledTables[0]} where body = @body",
            ("body", Encoding.UTF8.GetBytes($$"""{"runId":"{{scheduled}}","tenantId":"{{tenant}}"}""")));
    }

    [Fact]
    public async Task a_re_run_whose_message_cannot_go_on_is_recorded_failed_at_once()
    {
        // A bulk replay's re-run whose recipe version is gone: its message goes to the dead letters, and its run says why
        // then, as a live run's does, not when the sweep finds it quiet.
        var tenant = $"set-aside-{Guid.NewGuid():N}";
        var run = Guid.CreateVersion7();
        await using (var session = App.Store.LightweightSession(tenant))
        {
            session.Events.StartStream<Run>(run,
                new RunRequested(run, "orders", 1, "api", JsonSerializer.SerializeToElement(new { n = 1 }), null, null, null, "test", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        await App.Workers.Services.GetRequiredService<Wolverine.IMessageBus>()
            .PublishAsync(new ReplayRun(run, tenant), new Wolverine.DeliveryOptions { TenantId = tenant });

        var failed = await Eventually.Get(() => SummaryAsync(tenant, run), r => r.Status == RunStatus.Failed, TimeSpan.FromSeconds(30));
        Assert.Contains("does not exist", failed.Reason);
    }

    private async Task<RunSummary> SummaryAsync(string tenant, Guid run)
    {
        await using var session = App.Store.QuerySession(tenant);
        return (await session.LoadAsync<RunSummary>(run))!;
    }

    private async Task Sql(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
