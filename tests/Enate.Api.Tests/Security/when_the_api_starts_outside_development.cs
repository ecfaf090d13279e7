using Alba;
using Enate.Api.Security;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;

namespace Enate.Api.Tests.Security;

public sealed class when_the_api_starts_outside_development
{
    [Fact]
    public async Task it_refuses_the_published_development_key()
    {
        await using var database = await TestDatabase.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Production");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", database.ConnectionString);
            web.UseSetting("Enate:Bootstrap:ApiKey", BootstrapKey.DevelopmentDefault);
        }));
        Assert.Contains("development default", failure.ToString());
    }

    [Fact]
    public async Task it_refuses_to_keep_the_key_ring_in_the_clear()
    {
        await using var database = await TestDatabase.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Production");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", database.ConnectionString);
        }));
        Assert.Contains("Enate:DataProtection:KeyEncryptionKey is not set", failure.ToString());
    }

    [Fact]
    public async Task it_refuses_to_take_its_own_address_from_the_host_header()
    {
        await using var database = await TestDatabase.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Production");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", database.ConnectionString);
            web.UseSetting("Enate:DataProtection:KeyEncryptionKey", WorkerProcess.KeyEncryptionKey);
        }));
        Assert.Contains("Enate:PublicUrl is not set", failure.ToString());
    }
}
