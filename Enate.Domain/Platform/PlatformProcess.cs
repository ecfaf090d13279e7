using JasperFx;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Enate.Domain.Platform;

/// How the API and the Workers run, and what their exit code tells whoever supervises them (the app host's watchdog,
/// systemd's `Restart=on-failure`, Kubernetes): 0 only for a stop that was asked for, 1 when the host could not start or
/// a background service's failure stopped it. .NET 10 ends a host stopped by a failed background service as if it had
/// been asked to stop, and JasperFx's runner returns 0 whenever an ASP.NET Core option such as `--urls` is given, so
/// neither is left to say how the process ended.
public static class PlatformProcess
{
    /// Runs the host, or the JasperFx command the first argument names (`db-apply`, `codegen`, `resources`, `help`, …);
    /// returns the process's exit code.
    public static async Task<int> RunAsync(IHost host, string[] args)
    {
        if (args is [var command, ..] && !command.StartsWith('-')) return await host.RunJasperFxCommands(args);
        await using var disposed = host as IAsyncDisposable;
        try
        {
            await host.StartAsync();
        }
        catch (Exception)
        {
            // The host has logged why ("Hosting failed to start").
            return 1;
        }
        await host.WaitForShutdownAsync();
        return Failed(host) ? 1 : 0;
    }

    /// Whether a background service of the host ended with an exception (the host has logged it).
    public static bool Failed(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<BackgroundService>().Any(service => service.ExecuteTask is { IsFaulted: true });
}
