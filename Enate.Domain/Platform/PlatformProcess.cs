using JasperFx;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enate.Domain.Platform;

/// How the API and the Workers run, and what their exit code tells whoever supervises them (the app host's watchdog,
/// systemd's `Restart=on-failure`, Kubernetes): 0 only for a stop that was asked for, non-zero when the host could not
/// start or a background service's failure stopped it. JasperFx's runner, given an ASP.NET Core option such as `--urls`,
/// answers 0 for a host that never started, and .NET 10 ends a host that a failed background service stopped as if it
/// had been asked to stop; this looks at how the host ended instead.
public static class PlatformProcess
{
    /// Runs the host, or the JasperFx command the first argument names (`db-apply`, `move-tenant`, `help`, …); returns the
    /// process's exit code.
    public static async Task<int> RunAsync(IHost host, string[] args)
    {
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        // Taken once the host has started, so that nothing is created before the host creates it.
        BackgroundService[] services = [];
        lifetime.ApplicationStarted.Register(() =>
            services = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToArray());

        var code = await host.RunJasperFxCommands(args);
        var command = args is [var first, ..] && !first.StartsWith('-') && first != "run";
        if (code != 0 || command) return code;
        // The host ran: it failed if it never started (the host has logged why), or if a background service failed.
        return !lifetime.ApplicationStarted.IsCancellationRequested || Failed(services) ? 1 : 0;
    }

    /// Whether a background service ended with an exception (the host has logged it).
    public static bool Failed(IEnumerable<BackgroundService> services) =>
        services.Any(service => service.ExecuteTask is { IsFaulted: true });
}
