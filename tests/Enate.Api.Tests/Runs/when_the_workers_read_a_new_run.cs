extern alias workers;
using System.Text.Json;
using Enate.Api.Runs;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using RunReads = workers::Enate.Workers.Runs.RunReads;

namespace Enate.Api.Tests.Runs;

/// A new run's message says what the run needs, so the Workers read the run and those in one round trip; what the run
/// says, once read, decides. The run is planted without its message, so no Workers take it meanwhile.
public sealed class when_the_workers_read_a_new_run(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_message_names_the_recipe_version_and_the_reads_come_with_the_stream()
    {
        var (runId, message) = await PlantAsync();
        Assert.Equal("hinted:1", message.Recipe);
        Assert.Null(message.Inbound);

        await using var session = WorkersSession();
        var (stream, reads) = await RunReads.FetchAsync(session, runId, message.Recipe!, message.Inbound, CancellationToken.None);

        Assert.Equal(runId, stream.Aggregate!.Id);
        Assert.NotNull(reads);
        Assert.Equal("post", Assert.Single(reads.Recipe.Steps).Id);
        Assert.Equal(7, reads.Input.GetProperty("order").GetInt32());
    }

    [Fact]
    public async Task a_message_that_says_otherwise_leaves_the_reads_to_the_run()
    {
        var (runId, message) = await PlantAsync();

        await using var session = WorkersSession();
        var (other, none) = await RunReads.FetchAsync(session, runId, "hinted:2", null, CancellationToken.None);
        Assert.Equal(runId, other.Aggregate!.Id);
        Assert.Null(none);
        var (_, noInbound) = await RunReads.FetchAsync(session, runId, message.Recipe!, Guid.CreateVersion7(), CancellationToken.None);
        Assert.Null(noInbound);

        var reads = await RunReads.LoadAsync(session, other.Aggregate, CancellationToken.None);
        Assert.Equal("post", Assert.Single(reads.Recipe.Steps).Id);
    }

    [Fact]
    public async Task the_commit_finds_the_runs_summary_in_the_session_instead_of_reading_it_again()
    {
        var (runId, message) = await PlantAsync();

        // A session as the Workers' handlers get one.
        var options = ((SessionFactoryBase)App.Workers.Services.GetRequiredService<ISessionFactory>()).BuildOptions();
        options.TenantId = "demo";
        await using var session = App.Workers.Services.GetRequiredService<IDocumentStore>().OpenSession(options);
        var (stream, _) = await RunReads.FetchAsync(session, runId, message.Recipe!, message.Inbound, CancellationToken.None);
        stream.AppendOne(new RunStarted(runId, 1, "test", DateTimeOffset.UtcNow));
        var statements = new Statements();
        session.Logger = statements;
        await session.SaveChangesAsync();

        Assert.DoesNotContain(statements.Sql, sql => sql.Contains("from enate.mt_doc_runsummary", StringComparison.OrdinalIgnoreCase));
        await using var read = App.Store.QuerySession("demo");
        Assert.Equal(RunStatus.Running, (await read.LoadAsync<RunSummary>(runId))!.Status);
    }

    /// The SQL a session sends, statement by statement.
    private sealed class Statements : SessionWatch
    {
        public List<string> Sql { get; } = [];
        public override void OnBeforeExecute(Npgsql.NpgsqlCommand command) => Sql.Add(command.CommandText);
        public override void OnBeforeExecute(Npgsql.NpgsqlBatch batch) => Sql.AddRange(batch.BatchCommands.Select((Npgsql.NpgsqlBatchCommand c) => c.CommandText));
    }

    private IDocumentSession WorkersSession() => App.Workers.Services.GetRequiredService<IDocumentStore>().LightweightSession("demo");

    /// A run of a one-call recipe, recorded as the API records it, and the message the API would send with it.
    private async Task<(Guid RunId, ExecuteRun Message)> PlantAsync()
    {
        await Api.PutConnection("erp", "http://127.0.0.1:9");
        await Api.PutRecipe("hinted", new
        {
            name = "Hinted",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });
        await using var session = App.Store.LightweightSession("demo");
        var recipe = (await session.LoadAsync<Recipe>("hinted"))!;
        var (run, message) = await RunStarter.PrepareAsync(session,
            new RunRequest(recipe, JsonSerializer.SerializeToElement(new { order = 7 }), "api", null, "test"), DateTimeOffset.UtcNow, CancellationToken.None);
        session.Events.StartStream<Run>(run.Id, run.Events);
        await session.SaveChangesAsync();
        return (run.Id, message);
    }
}
