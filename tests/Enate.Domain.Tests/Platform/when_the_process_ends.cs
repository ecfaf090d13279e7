using Enate.Domain.Platform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enate.Domain.Tests.Platform;

/// The exit code says how a process of the platform ended, so that its supervisor starts it again when it failed and
/// leaves it down when it was stopped.
public sealed class when_the_process_ends
{
    private static IHost Host(Action<IServiceCollection> services)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        services(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task a_stop_that_was_asked_for_ends_with_0()
    {
        var host = Host(services => services.AddHostedService<Stops>());
        Assert.Equal(0, await PlatformProcess.RunAsync(host, []));
    }

    [Fact]
    public async Task a_background_service_that_fails_ends_it_with_1()
    {
        var host = Host(services => services.AddHostedService<Fails>());
        Assert.Equal(1, await PlatformProcess.RunAsync(host, []));
    }

    [Fact]
    public async Task a_host_that_cannot_start_ends_with_1_whatever_options_it_was_given()
    {
        var host = Host(services => services.AddHostedService<CannotStart>());
        Assert.Equal(1, await PlatformProcess.RunAsync(host, ["--urls", "http://127.0.0.1:0"]));
    }

    private sealed class Stops(IHostApplicationLifetime lifetime) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            lifetime.StopApplication();
        }
    }

    private sealed class Fails : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            throw new InvalidOperationException("A defect.");
        }
    }

    private sealed class CannotStart : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("No database.");
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
