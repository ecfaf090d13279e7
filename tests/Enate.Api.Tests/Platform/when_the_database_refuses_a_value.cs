using Alba;
using Enate.Domain;
using Enate.Domain.Platform;
using Enate.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Api.Tests.Platform;

/// A value PostgreSQL refuses while it binds a statement's parameters (a NUL in text: 22021) is the client's mistake:
/// 400, and nothing recorded. The connection it was refused on goes back to the pool, and what runs on it next must not
/// pay for it. With the platform's connection settings (auto-prepare), Npgsql takes a statement whose preparing
/// execution was refused that way for prepared, and the statement's next execution on that connection fails with a
/// protocol error (npgsql/npgsql#6391): a good request answered 500, or a run failed for another's mistake. After a
/// refusal the platform closes its pooled connections (TenantDatabases.ClearPools).
public sealed class when_the_database_refuses_a_value(AppFixture app) : AppTest(app)
{
    private const string Statement = $"select count(*) from {EnateStore.Schema}.mt_doc_runsummary where data ->> 'recipeKey' = $1";

    [Fact]
    public async Task the_connection_it_was_refused_on_is_not_used_again()
    {
        await using var source = OneConnection();
        await using var databases = await RefusedOnceAsync(source);
        databases.ClearPools();
        await RunAsync(databases, "after");
        await RunAsync(databases, "after again");
    }

    /// What the platform works around. When an Npgsql upgrade fixes it, this fails: the workaround may then go.
    [Fact]
    public async Task without_closing_it_the_statement_fails_on_that_connection()
    {
        await using var source = OneConnection();
        await using var databases = await RefusedOnceAsync(source);
        var broken = await Record.ExceptionAsync(() => RunAsync(databases, "after"));
        Assert.NotNull(broken);
        Assert.Contains("unexpected backend message", broken.Message);
        // What the Workers try again on another connection, should one slip past the closing (RunFailures).
        Assert.True(DatabaseErrors.IsOutOfStep(broken), broken.ToString());
    }

    [Fact]
    public async Task a_request_that_holds_such_a_value_is_answered_400_and_the_next_ones_200()
    {
        foreach (var filter in new[] { "recipe", "workItem", "status=failed&recipe" })
        {
            await Api.Scenario(s => s.Get.Url($"/api/v1/runs?{filter}=first"));
            await Api.Scenario(s =>
            {
                s.Get.Url($"/api/v1/runs?{filter}=nul%00");
                s.StatusCodeShouldBe(400);
            });
            for (var after = 0; after < 3; after++) await Api.Scenario(s => s.Get.Url($"/api/v1/runs?{filter}=after-{after}"));
        }
    }

    /// The platform's connection settings on a pool of one connection, so that every statement meets the same one.
    private NpgsqlDataSource OneConnection()
    {
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(App.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        EnateStore.ConfigureConnections(builder);
        return builder.Build();
    }

    /// The statement once as usual, then refused on the execution that prepares it.
    private static async Task<TenantDatabases> RefusedOnceAsync(NpgsqlDataSource source)
    {
        var databases = new TenantDatabases(source, new ConfigurationBuilder().Build());
        await RunAsync(databases, "first");
        await Assert.ThrowsAsync<PostgresException>(() => RunAsync(databases, "nul\0"));
        return databases;
    }

    private static async Task RunAsync(TenantDatabases databases, string recipe)
    {
        await using var command = databases.PlatformSource.CreateCommand(Statement);
        command.Parameters.AddWithValue(recipe);
        await command.ExecuteScalarAsync();
    }
}
