using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Enate.Domain.Platform;

/// One Data Protection key, shared by the API (which encrypts) and the Workers (which decrypt): its XML, or that XML
/// sealed by KeyRingSeal.
public sealed class DataProtectionKey
{
    public string Id { get; set; } = "";
    /// The key's XML when it is stored in the clear; empty once sealed.
    public string Xml { get; set; } = "";
    /// Nonce, ciphertext and tag, in base64, when sealed.
    public string? Sealed { get; set; }
    /// The id of the key encryption key it was sealed with.
    public string? SealedWith { get; set; }
}

/// Keeps the Data Protection key ring in PostgreSQL so every process and replica reads the same keys, sealed when a
/// key encryption key is configured.
public sealed class MartenXmlRepository(IDocumentStore store, KeyRingSeal? seal) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        // IXmlRepository is synchronous and Marten 9 only reads asynchronously; the ring is read rarely and cached.
        using var session = store.QuerySession();
        var keys = session.Query<DataProtectionKey>().ToListAsync().GetAwaiter().GetResult();
        return keys.Select(k => XElement.Parse(Open(k))).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        var xml = element.ToString(SaveOptions.DisableFormatting);
        using var session = store.LightweightSession();
        session.Store(seal?.Seal(friendlyName, xml) ?? new DataProtectionKey { Id = friendlyName, Xml = xml });
        session.SaveChangesAsync().GetAwaiter().GetResult();
    }

    /// Seals every entry that is stored in the clear or under a previous key encryption key; returns how many.
    public async Task<int> SealAllAsync(CancellationToken ct)
    {
        if (seal is null) return 0;
        await using var session = store.LightweightSession();
        var outdated = (await session.Query<DataProtectionKey>().ToListAsync(ct)).Where(seal.Outdated).ToList();
        foreach (var entry in outdated) session.Store(seal.Seal(entry.Id, seal.Open(entry)));
        await session.SaveChangesAsync(ct);
        return outdated.Count;
    }

    public async Task<bool> AnySealedAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<DataProtectionKey>().AnyAsync(k => k.Sealed != null, ct);
    }

    private string Open(DataProtectionKey entry) => entry.Sealed is null ? entry.Xml
        : seal?.Open(entry) ?? throw new InvalidOperationException(
            $"Data Protection key {entry.Id} is sealed and no key encryption key is configured: set Enate:DataProtection:KeyEncryptionKey.");
}

/// Seals the key ring when the process starts, and refuses to start outside Development and Testing without a key
/// encryption key: the ring in the clear beside the secrets it encrypts protects them from nobody who reads the database.
public sealed class KeyRingSealing(MartenXmlRepository ring, KeyRingSeal? seal, IHostEnvironment environment, ILogger<KeyRingSealing> logger)
    : IHostedService
{
    /// How long a start waits for a database that does not answer (restarting, say) before it gives up.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async Task StartAsync(CancellationToken ct)
    {
        if (seal is null && !environment.IsLocal())
            throw new InvalidOperationException(
                "Enate:DataProtection:KeyEncryptionKey is not set: outside Development the Data Protection key ring must be sealed, " +
                "or whoever reads the database can decrypt connection secrets. Set a secret of at least 32 characters " +
                "(the AppHost parameter 'key-encryption-key', or an environment secret) in the API and every Workers replica.");
        var giveUp = DateTimeOffset.UtcNow + Patience;
        while (true)
        {
            try
            {
                await SealAsync(ct);
                return;
            }
            catch (Exception ex) when (DatabaseErrors.IsDatabaseOrTimeout(ex) && DateTimeOffset.UtcNow < giveUp && !ct.IsCancellationRequested)
            {
                logger.LogWarning("The Data Protection key ring cannot be read yet, tried again in a second: {Reason}", ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    private async Task SealAsync(CancellationToken ct)
    {
        if (seal is null)
        {
            if (await ring.AnySealedAsync(ct))
                throw new InvalidOperationException(
                    "The Data Protection key ring is sealed and Enate:DataProtection:KeyEncryptionKey is not set: the connection " +
                    "secrets cannot be read. Set the key the ring was sealed with (the AppHost parameter 'key-encryption-key').");
            logger.LogWarning("No key encryption key is configured: the Data Protection key ring is stored in the clear.");
            return;
        }
        var sealedNow = await ring.SealAllAsync(ct);
        if (sealedNow > 0) logger.LogInformation("Sealed {Count} Data Protection key(s) with key encryption key {KeyId}", sealedNow, seal.Id);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

public static class DataProtectionSetup
{
    public const string ApplicationName = "enate-platform";

    public static IServiceCollection AddEnateDataProtection(this IServiceCollection services, IConfiguration configuration)
    {
        var seal = KeyRingSeal.From(configuration);
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddSingleton(provider => new MartenXmlRepository(provider.GetRequiredService<IDocumentStore>(), seal));
        services.AddSingleton(provider => new KeyRingSealing(provider.GetRequiredService<MartenXmlRepository>(), seal,
            provider.GetRequiredService<IHostEnvironment>(), provider.GetRequiredService<ILogger<KeyRingSealing>>()));
        services.AddHostedService(provider => provider.GetRequiredService<KeyRingSealing>());
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider =>
            new ConfigureOptions<KeyManagementOptions>(options =>
            {
                options.XmlRepository = provider.GetRequiredService<MartenXmlRepository>();
                // The repository seals whole entries; this only tells Data Protection that its keys are not left in the
                // clear, so it does not warn that they may be.
                if (seal is not null) options.XmlEncryptor = new NullXmlEncryptor();
            }));
        services.AddSingleton<Connections.ConnectionSecrets>();
        return services;
    }
}
