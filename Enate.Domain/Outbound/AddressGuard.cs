using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Domain.Outbound;

public sealed class AddressRefusedException(string message) : Exception(message);

/// Keeps recipes from reaching what sits behind the platform (SSRF): loopback, link-local (cloud metadata
/// among them), private, shared and unspecified addresses are refused unless `Enate:Outbound:Allow` lists
/// them as networks (`127.0.0.0/8`). The check runs on the address actually connected to, after DNS, so a
/// public name that resolves to a private address is refused too. Redirects are never followed.
public sealed class AddressGuard(IReadOnlyList<IPNetwork> allowed)
{
    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("fd00:ec2::254/128"),
        // Ranges that wrap an IPv4 address, which may be a private one: IPv4-compatible, NAT64 (well-known and local use),
        // 6to4 and Teredo. A partner is reached at its own address, not through these.
        IPNetwork.Parse("::/96"), IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("64:ff9b:1::/48"), IPNetwork.Parse("2002::/16"),
        IPNetwork.Parse("2001::/32"),
    ];

    public static AddressGuard From(IConfiguration configuration) =>
        new(configuration.GetSection("Enate:Outbound:Allow").Get<string[]>()?.Select(IPNetwork.Parse).ToArray() ?? []);

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (allowed.Any(n => n.Contains(address))) return true;
        return !Forbidden.Any(n => n.Contains(address));
    }

    /// Connects to the first allowed address of the host; refuses when none is.
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var usable = addresses.Where(IsAllowed).ToArray();
        if (usable.Length == 0)
            throw new AddressRefusedException($"Refused to connect to '{host}': its address is not public and not in Enate:Outbound:Allow.");

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

public static class OutboundConfiguration
{
    /// The one HTTP client that reaches partners: no redirects, no automatic retries (a retry is a recorded,
    /// durable, scheduled message), no proxy from the environment (the guard checks the address really connected to),
    /// every connection through the address guard, and no service discovery: a connection's host is looked up in DNS,
    /// never in the platform's own service names (`services:{name}:…`), which would send a tenant's request and its
    /// credentials to one of the platform's services.
    public static IServiceCollection AddOutboundCalls(this IServiceCollection services, IConfiguration configuration)
    {
        var guard = AddressGuard.From(configuration);
        services.AddSingleton(guard);
        services.AddSingleton(Engine.Limits.From(configuration));
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<OutboundCaller>();
        services.AddSingleton<Connections.ConnectionActivity>();
        services.AddHttpClient(OutboundCaller.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                ConnectCallback = guard.ConnectAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            // The service defaults put service discovery on every client; its handler type is internal to it.
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
            {
                foreach (var discovery in handlers.Where(IsServiceDiscovery).ToList()) handlers.Remove(discovery);
            });
        return services;
    }

    /// Whether a handler is service discovery's, which rewrites a request's host from the platform's service names.
    public static bool IsServiceDiscovery(DelegatingHandler handler) =>
        handler.GetType().FullName == "Microsoft.Extensions.ServiceDiscovery.Http.ResolvingHttpDelegatingHandler";
}
