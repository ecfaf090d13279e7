extern alias workers;

using Alba;
using Enate.Domain;
using Enate.Domain.Security;
using Enate.Testing;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using workers::Enate.Workers.Platform;

namespace Enate.Api.Tests;

/// One API (through Alba) and one Workers host per test assembly, on a real PostgreSQL.
public sealed class AppFixture : IAsyncLifetime
{
    private TestDatabase? _database;

    public IAlbaHost Api { get; private set; } = null!;
    /// What the API and the Workers logged, for tests that must prove something never reaches a log.
    public CapturedLogs Logs { get; } = new();
    public WebApplication Workers { get; private set; } = null!;
    public IDocumentStore Store => Api.Services.GetRequiredService<IDocumentStore>();
    public string ConnectionString => _database!.ConnectionString;

    /// The bootstrap admin key of tenant `demo`, as the AppHost seeds it in Development.
    public const string AdminKey = "test-admin-key-for-tenant-demo-0001";
    /// The platform operator's key, which manages tenants.
    public const string OperatorKey = "test-operator-key-0123456789-abcdefghij";

    /// The audit signing key the API and the Workers share, and the folder their checkpoints are witnessed in: one per
    /// database of this test run. A folder left by an earlier run whose database had the same port (a run that was
    /// killed keeps its folder) would hold checkpoints of another chain, and the verification would rightly fail.
    public const string AuditSigningKey = "test-audit-signing-key-not-a-secret-0001";
    private static readonly string ThisRun = Guid.NewGuid().ToString("N");
    public static string WitnessFolderFor(string connectionString) => Path.Combine(Path.GetTempPath(),
        "enate-witness-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ThisRun + connectionString)))[..16]);
    public string WitnessFolder => WitnessFolderFor(ConnectionString);

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        try
        {
            await StartHostsAsync(_database);
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: stop the server here.
            await _database.DisposeAsync();
            throw;
        }
    }

    private async Task StartHostsAsync(TestDatabase database)
    {
        Api = await StartApiAsync(database.ConnectionString, Logs);
        Workers = await StartWorkersAsync(database.ConnectionString, Logs);
    }

    /// A Workers host in this process on a database.
    public static async Task<WebApplication> StartWorkersAsync(string connectionString, CapturedLogs? logs = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration[$"ConnectionStrings:{EnateStore.DatabaseName}"] = connectionString;
        // Tests read handled messages' envelopes in the inbox (what the API wrote, how often a run was queued): keep them
        // as long as Wolverine does by default, unless a test says otherwise.
        builder.Configuration["Enate:Workers:KeepHandled"] = "00:05:00";
        builder.Configuration["Enate:DataProtection:KeyEncryptionKey"] = WorkerProcess.KeyEncryptionKey;
        foreach (var (name, value) in settings ?? new Dictionary<string, string>()) builder.Configuration[name] = value;
        // Test partners listen on loopback, which the platform refuses unless allowed.
        builder.Configuration["Enate:Outbound:Allow:0"] = "127.0.0.0/8";
        builder.Configuration["Enate:Audit:SigningKey"] = AuditSigningKey;
        builder.Configuration["Enate:Audit:Witness:Folder"] = WitnessFolderFor(connectionString);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (logs is not null) builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.AddServiceDefaults();
        builder.AddWorkers();
        var workers = builder.Build();
        await workers.StartAsync();
        return workers;
    }

    /// The API through Alba on a database; every call is the demo tenant's admin unless a test sends its own
    /// Authorization header.
    public static async Task<IAlbaHost> StartApiAsync(string connectionString, CapturedLogs? logs = null,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        // Program ends with RunJasperFxCommands: let the test host start it.
        JasperFxEnvironment.AutoStartHost = true;
        var api = await AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Testing");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", connectionString);
            web.UseSetting("Enate:Bootstrap:ApiKey", AdminKey);
            web.UseSetting("Enate:Operator:ApiKey", OperatorKey);
            web.UseSetting("Enate:Audit:SigningKey", AuditSigningKey);
            web.UseSetting("Enate:DataProtection:KeyEncryptionKey", WorkerProcess.KeyEncryptionKey);
            web.UseSetting("Enate:Audit:Witness:Folder", WitnessFolderFor(connectionString));
            // The fuzz test alone sends thousands of requests with one key; limits have their own test host.
            web.UseSetting("Enate:RateLimits:PerKeyPerSecond", "1000000");
            web.UseSetting("Enate:RateLimits:PerWebhookPerSecond", "1000000");
            web.UseSetting("Enate:RateLimits:PerTenantPerSecond", "1000000");
            web.UseSetting("Enate:RateLimits:AnonymousPerAddressPerSecond", "1000000");
            // Tests look for the records of requests to unknown hooks; the budget has a test of its own.
            web.UseSetting("Enate:Inbound:UnknownRecordsPerMinute", "1000000");
            web.UseSetting("Enate:RateLimits:KeyLookupsPerAddressPerSecond", "1000000");
            if (logs is not null) web.ConfigureLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
            foreach (var (name, value) in settings ?? new Dictionary<string, string>()) web.UseSetting(name, value);
        });
        api.BeforeEach(context =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization")) context.Request.Headers.Authorization = $"Bearer {AdminKey}";
        });
        return api;
    }

    /// Cleaning between tests deletes the keys too: put the bootstrap key back as the API seeds it.
    public async Task SeedAdminKeyAsync()
    {
        await using var session = Store.LightweightSession();
        session.Store(new ApiKey
        {
            Id = ApiKey.HashOf(AdminKey), KeyId = Guid.CreateVersion7(), TenantId = "demo", Name = "bootstrap",
            Scopes = [Scopes.Admin], CreatedAt = DateTimeOffset.UtcNow,
        });
        await session.SaveChangesAsync();
    }

    /// A key of any tenant with the given scopes, stored as the API stores keys.
    public async Task<string> SeedKeyAsync(string tenant, params string[] scopes)
    {
        var key = ApiKey.NewKey();
        await using var session = Store.LightweightSession();
        session.Store(new ApiKey
        {
            Id = ApiKey.HashOf(key), KeyId = Guid.CreateVersion7(), TenantId = tenant, Name = $"{tenant} test key",
            Scopes = scopes, CreatedAt = DateTimeOffset.UtcNow,
        });
        await session.SaveChangesAsync();
        return key;
    }

    public async Task DisposeAsync()
    {
        await Workers.StopAsync();
        await Workers.DisposeAsync();
        await Api.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
        if (Directory.Exists(WitnessFolder)) Directory.Delete(WitnessFolder, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app";
}

/// Each test starts with no documents and arranges its own data. The event log is kept: it is
/// append-only, the Workers' subscriptions track their place in it, and every run id is new anyway.
[Collection(AppCollection.Name)]
public abstract class AppTest(AppFixture app) : IAsyncLifetime
{
    protected AppFixture App { get; } = app;
    protected IAlbaHost Api => App.Api;

    public virtual async Task InitializeAsync()
    {
        // Marten's clean-up removes the events too; the audit chain over them must go with them, while the
        // chainer is held off (it takes the same advisory lock for each batch).
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using (var hold = new Npgsql.NpgsqlCommand($"select pg_advisory_lock({Enate.Domain.Audit.AuditChain.LockKey})", connection))
            await hold.ExecuteNonQueryAsync();
        // The Workers may still be finishing the previous test's runs: clearing their tables can deadlock with them
        // (PostgreSQL then aborts one side, seen once in CI). The clean-up is simply tried again.
        // The Data Protection key ring stays: the API and the Workers each cache it, and a key one of them made in an
        // earlier test is what the other looks for in the database when it meets a secret encrypted with it.
        List<Enate.Domain.Platform.DataProtectionKey> ring;
        await using (var session = App.Store.QuerySession())
            ring = (await session.Query<Enate.Domain.Platform.DataProtectionKey>().ToListAsync()).ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await App.Store.Advanced.Clean.DeleteAllDocumentsAsync();
                break;
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected && attempt < 5)
            {
                await Task.Delay(100 * attempt);
            }
        }
        await using (var session = App.Store.LightweightSession())
        {
            session.Store(ring.ToArray());
            await session.SaveChangesAsync();
        }
        // The chain goes, and with it the checkpoints of its heads, in the database and in the witness.
        if (Directory.Exists(App.WitnessFolder)) Directory.Delete(App.WitnessFolder, recursive: true);
        await using (var clear = new Npgsql.NpgsqlCommand(
            $"do $$ begin if to_regclass('{Enate.Domain.Audit.AuditChain.Table}') is not null then truncate {Enate.Domain.Audit.AuditChain.Table}; end if; " +
            $"if to_regclass('{Enate.Domain.Audit.Checkpointing.Table}') is not null then truncate {Enate.Domain.Audit.Checkpointing.Table}; end if; " +
            $"if to_regclass('{Enate.Domain.Connections.ConnectionActivity.Table}') is not null then truncate {Enate.Domain.Connections.ConnectionActivity.Table}; end if; end $$; " +
            $"select pg_advisory_unlock({Enate.Domain.Audit.AuditChain.LockKey})", connection))
            await clear.ExecuteNonQueryAsync();
        await App.SeedAdminKeyAsync();
    }
    public virtual Task DisposeAsync() => Task.CompletedTask;
}
