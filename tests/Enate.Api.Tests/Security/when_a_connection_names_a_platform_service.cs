using Enate.Domain.Outbound;
using Enate.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enate.Api.Tests.Security;

/// The platform's processes know their own services by name (`services:{name}:…`, set by the app host for service
/// discovery). A tenant's connection whose host is such a name must not be sent there, with the tenant's credentials:
/// the partners' client looks a host up in DNS only. Another client of the same process still resolves the name, so
/// the test would see discovery if the partners' client had it.
public sealed class when_a_connection_names_a_platform_service : IAsyncLifetime
{
    private TestPartner _service = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _service = await TestPartner.StartAsync();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration["services:ledger:http:0"] = _service.BaseUrl;
        builder.Configuration["Enate:Outbound:Allow:0"] = "127.0.0.0/8";
        builder.AddServiceDefaults();
        builder.Services.AddOutboundCalls(builder.Configuration);
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _service.DisposeAsync();
    }

    [Fact]
    public async Task the_partners_client_looks_the_host_up_in_dns_and_sends_nothing_to_the_service()
    {
        var clients = _host.Services.GetRequiredService<IHttpClientFactory>();

        using (var other = await clients.CreateClient("platform").GetAsync("http://ledger/through-discovery"))
            Assert.True(other.IsSuccessStatusCode);
        Assert.Single(_service.Requests);

        await Assert.ThrowsAsync<HttpRequestException>(() =>
            clients.CreateClient(OutboundCaller.ClientName).GetAsync("http://ledger/secret-bearing-call"));
        Assert.Single(_service.Requests);
    }
}
