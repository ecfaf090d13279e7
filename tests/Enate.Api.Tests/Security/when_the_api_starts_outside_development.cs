using Alba;
using Enate.Api.Security;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;

namespace Enate.Api.Tests.Security;

/// Outside Development the API refuses to start on settings that would hand a secret or an address to whoever asks.
public sealed class when_the_api_starts_outside_development
{
    /// Why a Production API with these settings did not start.
    private static async Task<string> RefusalAsync(params (string Key, string Value)[] settings)
    {
        await using var database = await TestDatabase.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Production");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", database.ConnectionString);
            foreach (var (key, value) in settings) web.UseSetting(key, value);
        }));
        return failure.ToString();
    }

    [Fact]
    public async Task it_refuses_the_published_development_key() =>
        Assert.Contains("development default", await RefusalAsync(("Enate:Bootstrap:ApiKey", BootstrapKey.DevelopmentDefault)));

    [Fact]
    public async Task it_refuses_to_keep_the_key_ring_in_the_clear() =>
        Assert.Contains("Enate:DataProtection:KeyEncryptionKey is not set", await RefusalAsync());

    [Fact]
    public async Task it_refuses_to_take_its_own_address_from_the_host_header() =>
        Assert.Contains("Enate:PublicUrl is not set",
            await RefusalAsync(("Enate:DataProtection:KeyEncryptionKey", WorkerProcess.KeyEncryptionKey)));
}
