using Enate.Domain.Connections;
using Enate.Domain.Platform;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Domain.Tests.Connections;

public sealed class when_connection_activity_cannot_be_written
{
    [Fact]
    public async Task two_databases_away_fail_the_round_with_a_database_error_and_keep_what_was_noted()
    {
        // Nothing listens on port 1: both the platform database and the one beside it are away.
        await using var platform = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=platform;Timeout=2");
        var placed = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Enate:Tenancy:Databases:beside"] = "Host=127.0.0.1;Port=1;Database=beside;Timeout=2",
            ["Enate:Tenancy:Tenants:acme"] = "beside",
        }).Build();
        await using var databases = new TenantDatabases(platform, placed);
        var activity = new ConnectionActivity();
        activity.StartCollecting();
        activity.Succeeded("demo", "partner", DateTimeOffset.UtcNow);
        activity.Failed("acme", "crm", DateTimeOffset.UtcNow, "503 from the partner");

        // A database error, which the Workers' sweeper logs and tries again; an AggregateException of the two would
        // escape it and stop the host.
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => activity.WriteAsync(databases, CancellationToken.None));
        // Still noted: with nothing noted the write returns without touching a database.
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => activity.WriteAsync(databases, CancellationToken.None));
    }
}
