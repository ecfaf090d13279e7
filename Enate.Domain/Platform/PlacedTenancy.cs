using System.Collections.Concurrent;
using JasperFx.Descriptors;
using Marten;
using Marten.Schema;
using Marten.Storage;
using Weasel.Core.Migrations;

namespace Enate.Domain.Platform;

/// Marten's view of TenantDatabases: each tenant's sessions open on the database it is placed in, and every tenant not
/// placed (the platform's own records included, which have no tenant) on the platform database. Marten's static
/// tenancy knows only the tenants listed at start and refuses the rest, but tenants are made at run time (POST
/// /api/v1/tenants) and must work at once; this one places them on the platform database until an operator moves them
/// (docs/decisions.md, 61).
public sealed class PlacedTenancy : Tenancy, ITenancy
{
    private readonly TenantDatabases _placement;
    private readonly Dictionary<string, MartenDatabase> _databases;
    private readonly ConcurrentDictionary<string, Tenant> _tenants = new(StringComparer.Ordinal);

    public PlacedTenancy(StoreOptions options, TenantDatabases placement) : base(options)
    {
        _placement = placement;
        _databases = placement.All.ToDictionary(d => d.Name, d =>
        {
            var database = new MartenDatabase(options, d.Source, d.Name);
            foreach (var tenant in placement.PlacedIn(d.Name)) database.TenantIds.Add(tenant);
            return database;
        });
        Default = new Tenant(JasperFx.StorageConstants.DefaultTenantId, _databases[TenantDatabases.Platform]);
        Cleaner = new CompositeDocumentCleaner(this, options);
    }

    public DatabaseCardinality Cardinality => DatabaseCardinality.StaticMultiple;

    public Tenant Default { get; }

    public IDocumentCleaner Cleaner { get; }

    private MartenDatabase DatabaseOf(string tenant) => _databases[_placement.NameOf(tenant)];

    public Tenant GetTenant(string tenantId) =>
        tenantId == Default.TenantId ? Default : _tenants.GetOrAdd(tenantId, id => new Tenant(id, DatabaseOf(id)));

    public ValueTask<Tenant> GetTenantAsync(string tenantId) => ValueTask.FromResult(GetTenant(tenantId));

    /// A database by its name, or the database of a tenant.
    public ValueTask<IMartenDatabase> FindOrCreateDatabase(string tenantIdOrDatabaseIdentifier) =>
        ValueTask.FromResult<IMartenDatabase>(_databases.TryGetValue(tenantIdOrDatabaseIdentifier, out var database)
            ? database
            : DatabaseOf(tenantIdOrDatabaseIdentifier));

    public ValueTask<IMartenDatabase?> TryFindDatabase(string tenantIdOrDatabaseIdentifier) =>
        ValueTask.FromResult<IMartenDatabase?>(_databases.TryGetValue(tenantIdOrDatabaseIdentifier, out var database)
            ? database
            : DatabaseOf(tenantIdOrDatabaseIdentifier));

    public ValueTask<IMartenDatabase> FindDatabase(DatabaseId id) =>
        ValueTask.FromResult<IMartenDatabase>(_databases.Values.FirstOrDefault(d => d.Id == id)
            ?? throw new ArgumentOutOfRangeException(nameof(id), $"No database {id.Identity}."));

    public bool IsTenantStoredInCurrentDatabase(IMartenDatabase database, string tenantId) => DatabaseOf(tenantId) == database;

    public ValueTask<IReadOnlyList<IDatabase>> BuildDatabases() =>
        ValueTask.FromResult<IReadOnlyList<IDatabase>>(_databases.Values.ToList<IDatabase>());

    public ValueTask<DatabaseUsage> DescribeDatabasesAsync(CancellationToken token) =>
        ValueTask.FromResult(new DatabaseUsage
        {
            Cardinality = Cardinality,
            MainDatabase = _databases[TenantDatabases.Platform].Describe(),
            Databases = _databases.Values.Select(d => d.Describe()).ToList(),
        });

    public void Dispose()
    {
        // The data sources are TenantDatabases' and the platform's own; the databases hold nothing else to release.
    }
}
