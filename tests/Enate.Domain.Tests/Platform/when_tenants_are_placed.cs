using Enate.Domain.Platform;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Domain.Tests.Platform;

/// Where each tenant's data lives is read from the settings; settings that could not work stop the process at start
/// with what to change, instead of losing messages later.
public sealed class when_tenants_are_placed
{
    private static TenantDatabases Placement(string platform, params (string Key, string Value)[] settings) =>
        new(NpgsqlDataSource.Create(platform),
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    [Fact]
    public void a_placed_tenant_is_in_its_database_and_every_other_in_the_platforms()
    {
        var databases = Placement("Host=db1;Database=enate",
            ("Enate:Tenancy:Databases:eu", "Host=db2;Database=enate"), ("Enate:Tenancy:Tenants:acme", "eu"));
        Assert.True(databases.Several);
        Assert.Equal(["platform", "eu"], databases.All.Select(d => d.Name));
        Assert.Equal("eu", databases.NameOf("acme"));
        Assert.Equal("platform", databases.NameOf("demo"));
        Assert.Equal("db2", new NpgsqlConnectionStringBuilder(databases.For("acme").ConnectionString).Host);
        Assert.Same(databases.PlatformSource, databases.For("demo"));
        Assert.False(Placement("Host=db1;Database=enate").Several);
    }

    [Fact]
    public void a_tenant_placed_in_a_database_not_configured_stops_the_start()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Placement("Host=db1;Database=enate", ("Enate:Tenancy:Tenants:acme", "eu")));
        Assert.Contains("Enate:Tenancy:Tenants:acme", refused.Message);
        Assert.Throws<InvalidOperationException>(() => Placement("Host=db1;Database=enate", ("Enate:Tenancy:Databases:platform", "Host=db2;Database=x")));
    }

    [Fact]
    public void two_databases_told_apart_by_port_only_stop_the_start()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Placement("Host=db1;Port=5432;Database=enate",
            ("Enate:Tenancy:Databases:eu", "Host=db1;Port=5433;Database=enate")));
        Assert.Contains("'platform' and 'eu'", refused.Message);
        // Another name on the same server is another database.
        Assert.True(Placement("Host=db1;Port=5432;Database=enate", ("Enate:Tenancy:Databases:eu", "Host=db1;Port=5433;Database=enate_eu")).Several);
    }
}
