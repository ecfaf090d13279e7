using System.Net;
using Enate.Domain.Outbound;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Domain.Tests.Outbound;

public sealed class when_an_address_is_checked
{
    private static readonly AddressGuard Strict = new([]);
    private static readonly AddressGuard Local = new([IPNetwork.Parse("127.0.0.0/8")]);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("169.254.169.254")]
    [InlineData("10.0.0.5")]
    [InlineData("172.20.1.1")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    [InlineData("64:ff9b:1::7f00:1")]
    [InlineData("2002:7f00:1::1")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")]
    [InlineData("::127.0.0.1")]
    public void inside_addresses_are_refused(string address) => Assert.False(Strict.IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    public void public_addresses_pass(string address) => Assert.True(Strict.IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void outbound_calls_ignore_proxies_and_redirects()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddOutboundCalls(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();
        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(OutboundCaller.ClientName);
        while (handler is DelegatingHandler delegating) handler = delegating.InnerHandler!;

        var sockets = Assert.IsType<SocketsHttpHandler>(handler);
        Assert.False(sockets.UseProxy);
        Assert.False(sockets.AllowAutoRedirect);
        Assert.NotNull(sockets.ConnectCallback);
    }

    [Fact]
    public void the_allow_list_opens_only_what_it_names()
    {
        Assert.True(Local.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(Local.IsAllowed(IPAddress.Parse("169.254.169.254")));
        Assert.False(Local.IsAllowed(IPAddress.Parse("::1")));
    }
}
