using System.Xml.Linq;
using Enate.Domain.Platform;
using Enate.Testing;
using Marten;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Enate.Api.Tests.Security;

/// The Data Protection key ring, which encrypts connection secrets, is stored sealed under the key encryption key,
/// which the database never holds: a reader of the database gets ciphertext and sealed keys.
public sealed class when_the_key_ring_is_stored(AppFixture app) : AppTest(app)
{
    private static KeyRingSeal Seal(string key, params string[] previous)
    {
        var settings = new Dictionary<string, string?> { ["Enate:DataProtection:KeyEncryptionKey"] = key };
        for (var i = 0; i < previous.Length; i++) settings[$"Enate:DataProtection:PreviousKeyEncryptionKeys:{i}"] = previous[i];
        return KeyRingSeal.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())!;
    }

    private static readonly KeyRingSeal Platform = Seal(WorkerProcess.KeyEncryptionKey);

    /// A new key in the ring, as Data Protection makes one: through the API's key manager and its repository.
    private Guid NewKey() => App.Api.Services.GetRequiredService<IKeyManager>()
        .CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90)).KeyId;

    private async Task<List<(string Id, string Data)>> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select id, data::text from enate.mt_doc_dataprotectionkey", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync()) rows.Add((reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    private List<string> Read(KeyRingSeal? seal) =>
        new MartenXmlRepository(App.Store, seal).GetAllElements().Select(e => e.ToString(SaveOptions.DisableFormatting)).Order().ToList();

    [Fact]
    public async Task a_new_key_is_stored_sealed_with_nothing_of_it_in_the_clear()
    {
        var key = NewKey();
        var rows = await RowsAsync();
        Assert.NotEmpty(rows);
        Assert.All(rows, row =>
        {
            Assert.DoesNotContain("masterKey", row.Data);
            Assert.DoesNotContain("<key", row.Data);
            Assert.Contains(Platform.Id, row.Data);
        });
        Assert.Contains(Read(Platform), xml => xml.Contains(key.ToString()));
    }

    [Fact]
    public async Task a_key_stored_in_the_clear_is_sealed_when_a_process_starts_and_reads_the_same()
    {
        NewKey();
        var before = Read(Platform);
        await using (var session = App.Store.LightweightSession())
        {
            var entries = await session.Query<DataProtectionKey>().ToListAsync();
            foreach (var entry in entries) session.Store(new DataProtectionKey { Id = entry.Id, Xml = Platform.Open(entry) });
            await session.SaveChangesAsync();
        }
        Assert.All(await RowsAsync(), row => Assert.Contains("masterKey", row.Data));

        await App.Api.Services.GetRequiredService<KeyRingSealing>().StartAsync(CancellationToken.None);

        Assert.All(await RowsAsync(), row => Assert.DoesNotContain("masterKey", row.Data));
        Assert.Equal(before, Read(Platform));
    }

    [Fact]
    public async Task after_a_rotation_the_ring_is_sealed_again_under_the_new_key_and_the_old_one_opens_nothing()
    {
        const string next = "the-next-key-encryption-key-of-this-test-0001";
        NewKey();
        var before = Read(Platform);
        try
        {
            Assert.True(await new MartenXmlRepository(App.Store, Seal(next, WorkerProcess.KeyEncryptionKey)).SealAllAsync(CancellationToken.None) > 0);
            var rotated = Seal(next);
            Assert.All(await RowsAsync(), row => Assert.Contains(rotated.Id, row.Data));
            Assert.Equal(before, Read(rotated));
            Assert.Contains("Enate:DataProtection:KeyEncryptionKey", Assert.Throws<InvalidOperationException>(() => Read(Platform)).Message);
            Assert.Contains("Enate:DataProtection:KeyEncryptionKey", Assert.Throws<InvalidOperationException>(() => Read(null)).Message);
        }
        finally
        {
            // The fixture's processes hold the platform's key: give the ring back to it.
            await new MartenXmlRepository(App.Store, Seal(WorkerProcess.KeyEncryptionKey, next)).SealAllAsync(CancellationToken.None);
        }
        Assert.Equal(before, Read(Platform));
    }

    [Fact]
    public async Task a_process_without_the_key_does_not_start_on_a_sealed_ring()
    {
        NewKey();
        var sealing = new KeyRingSealing(new MartenXmlRepository(App.Store, seal: null), seal: null,
            new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Development" },
            Microsoft.Extensions.Logging.Abstractions.NullLogger<KeyRingSealing>.Instance);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => sealing.StartAsync(CancellationToken.None));
        Assert.Contains("Enate:DataProtection:KeyEncryptionKey is not set", failure.Message);
    }
}
