using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Domain.Platform;

/// Where each tenant's data lives (docs/operations.md, "Tenants on databases of their own"). The platform database,
/// `ConnectionStrings:enate`, holds the platform's own records (API keys, tenants, hooks, subscriptions, the key ring,
/// Wolverine's nodes) and every tenant not placed elsewhere. `Enate:Tenancy:Databases:{name}` adds a database by its
/// connection string, and `Enate:Tenancy:Tenants:{tenant}` = `{name}` places a tenant in it: its events, read models,
/// queue, audit chain and connections' secrets are all there, and nothing of it in the platform database.
public sealed class TenantDatabases : IAsyncDisposable
{
    public const string Platform = "platform";
    public const string Section = "Enate:Tenancy";

    private readonly Dictionary<string, NpgsqlDataSource> _byName;
    private readonly Dictionary<string, string> _placement;
    private readonly List<NpgsqlDataSource> _owned = [];

    public TenantDatabases(NpgsqlDataSource platform, IConfiguration configuration)
    {
        _byName = new(StringComparer.Ordinal) { [Platform] = platform };
        foreach (var database in configuration.GetSection($"{Section}:Databases").GetChildren())
        {
            if (database.Key == Platform)
                throw new InvalidOperationException($"'{Platform}' names the platform database (ConnectionStrings:enate); give {Section}:Databases:{Platform} another name.");
            if (string.IsNullOrWhiteSpace(database.Value))
                throw new InvalidOperationException($"{Section}:Databases:{database.Key} has no connection string.");
            var builder = new NpgsqlDataSourceBuilder(database.Value);
            EnateStore.ConfigureConnections(builder);
            var source = builder.Build();
            _owned.Add(source);
            _byName[database.Key] = source;
        }
        _placement = new(StringComparer.Ordinal);
        foreach (var tenant in configuration.GetSection($"{Section}:Tenants").GetChildren())
        {
            if (tenant.Value is not { } name || !_byName.ContainsKey(name))
                throw new InvalidOperationException(
                    $"{Section}:Tenants:{tenant.Key} places the tenant in '{tenant.Value}', which is not '{Platform}' nor one of {Section}:Databases.");
            _placement[tenant.Key] = name;
        }
        All = _byName.OrderBy(d => d.Key == Platform ? "" : d.Key, StringComparer.Ordinal)
            .Select(d => new Database(d.Key, d.Value)).ToList();
        // Wolverine names a database's recovery agent by host, database and schema, not port: two databases alike in
        // those would share one agent, and the messages of a Workers process that died in the other would never be
        // recovered.
        foreach (var alike in All.GroupBy(d => Identity(d.Source)).Where(g => g.Count() > 1))
            throw new InvalidOperationException(
                $"{string.Join(" and ", alike.Select(d => $"'{d.Name}'"))} are both database '{alike.Key.Database}' on host '{alike.Key.Host}': " +
                "give each database a name of its own (servers on one host told apart by port only are not told apart).");
    }

    private static (string? Host, string? Database) Identity(NpgsqlDataSource source)
    {
        var builder = new NpgsqlConnectionStringBuilder(source.ConnectionString);
        return (builder.Host?.ToLowerInvariant(), builder.Database);
    }

    public sealed record Database(string Name, NpgsqlDataSource Source);

    /// Whether any tenant may live outside the platform database.
    public bool Several => All.Count > 1;

    /// Every database, the platform's first: what a job over all tenants (the chainer, the sweepers) goes through.
    public IReadOnlyList<Database> All { get; }

    public NpgsqlDataSource PlatformSource => _byName[Platform];

    /// The name of the database that holds a tenant's data.
    public string NameOf(string tenant) => _placement.GetValueOrDefault(tenant, Platform);

    /// The tenants placed in a database by name (none listed for the platform's: it holds every other one).
    public IEnumerable<string> PlacedIn(string name) => _placement.Where(p => p.Value == name).Select(p => p.Key);

    /// The database that holds a tenant's data.
    public NpgsqlDataSource For(string tenant) => _byName[NameOf(tenant)];

    /// Closes every pooled connection of every database, each one in use when it is returned. Called after PostgreSQL
    /// refused a value (DatabaseErrors.IsRefusedValue): Npgsql's auto-prepare takes a statement whose preparing
    /// execution was refused while its parameters were bound (a NUL in text, `\u0000` in jsonb) for prepared, and the
    /// statement's next execution on that connection fails with a protocol error (npgsql/npgsql#6391, open in Npgsql
    /// 10.0.3). Which pooled connection it was is not known by then. A refusal is a client's mistake and rare, so the
    /// connections opened again cost little.
    public void ClearPools()
    {
        foreach (var database in All) database.Source.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _owned) await source.DisposeAsync();
    }
}
