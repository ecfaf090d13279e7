using Enate.Domain.Platform;
using Enate.Domain.Security;
using Marten;

namespace Enate.Api.Security;

/// Seeds the first admin key (for tenant `demo` unless configured) from `Enate:Bootstrap:ApiKey`, so a fresh
/// platform can be used at all. The well-known development default is refused outside Development.
public sealed class BootstrapKey(IConfiguration configuration, IHostEnvironment environment, IDocumentStore store,
    TimeProvider clock, ILogger<BootstrapKey> logger) : IHostedService
{
    public const string DevelopmentDefault = "enate-dev-admin-key-change-me";

    public async Task StartAsync(CancellationToken ct)
    {
        var key = configuration["Enate:Bootstrap:ApiKey"];
        if (string.IsNullOrWhiteSpace(key)) return;
        if (key == DevelopmentDefault && !environment.IsLocal())
        {
            throw new InvalidOperationException(
                "Enate:Bootstrap:ApiKey is the published development default. Set a secret value (the AppHost parameter " +
                "'bootstrap-api-key') or leave it empty outside Development.");
        }
        if (key.Length < 16) throw new InvalidOperationException("Enate:Bootstrap:ApiKey must be at least 16 characters.");

        var tenant = configuration["Enate:Bootstrap:Tenant"] is { Length: > 0 } t ? t : "demo";
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<Tenant>(tenant, ct) is null)
        {
            await using var record = store.LightweightSession();
            record.Insert(new Tenant { Id = tenant, Name = tenant, CreatedAt = clock.GetUtcNow(), CreatedBy = "bootstrap" });
            try
            {
                await record.SaveChangesAsync(ct);
            }
            catch (JasperFx.DocumentAlreadyExistsException)
            {
                // Another API replica recorded it first.
            }
        }
        var hash = ApiKey.HashOf(key);
        if (await session.LoadAsync<ApiKey>(hash, ct) is { } seeded)
        {
            // A stored prefix shows no more of the key than ApiKey.Shown allows.
            if (seeded.Prefix != ApiKey.Shown(key))
            {
                seeded.Prefix = ApiKey.Shown(key);
                session.Update(seeded);
                await session.SaveChangesAsync(ct);
            }
            return;
        }
        session.Insert(new ApiKey
        {
            Id = hash, KeyId = Guid.CreateVersion7(), TenantId = tenant, Name = "bootstrap", Scopes = [Scopes.Admin],
            Prefix = ApiKey.Shown(key), CreatedAt = clock.GetUtcNow(),
        });
        try
        {
            await session.SaveChangesAsync(ct);
            logger.LogInformation("Bootstrap admin key seeded for tenant {Tenant}", tenant);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            // Another API replica seeded it first.
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
