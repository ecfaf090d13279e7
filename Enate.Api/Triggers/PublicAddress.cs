using Enate.Domain.Platform;

namespace Enate.Api.Triggers;

/// Outside Development the platform's public address is configuration (`Enate:PublicUrl`). Taken from each request's
/// Host header, the addresses it hands out (a subscription's SubscriberURL, where Enate then delivers with the
/// subscription's secret; a hook's URL for a partner) would be whatever the caller claimed.
public sealed class PublicAddress(IConfiguration configuration, IHostEnvironment environment) : IHostedService
{
    public Task StartAsync(CancellationToken ct)
    {
        if (environment.IsLocal()) return Task.CompletedTask;
        if (!Uri.TryCreate(configuration["Enate:PublicUrl"], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new InvalidOperationException(
                "Enate:PublicUrl is not set to an absolute http(s) URL: set it to the address partners and Enate reach this platform at. " +
                "Outside Development the platform never takes its own address from a request's Host header.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
