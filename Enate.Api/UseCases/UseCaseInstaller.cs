using System.Net.Http.Headers;

namespace Enate.Api.UseCases;

/// In Development, with the simulators running beside it, the platform comes up with the seed's use cases
/// installed for the bootstrap key's tenant (`demo`), ready to fire (docs/use-cases.md). Nothing happens in
/// any other environment or without the simulators.
public sealed class UseCaseInstaller(IConfiguration configuration, IHostEnvironment environment, IHostApplicationLifetime lifetime,
    ILogger<UseCaseInstaller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var simulators = configuration["services:simulators:public:0"];
        var key = configuration["Enate:Bootstrap:ApiKey"];
        var self = configuration["Enate:PublicUrl"];
        if (!environment.IsDevelopment() || !configuration.GetValue("Enate:UseCases:Install", true) ||
            simulators is null || string.IsNullOrEmpty(key) || self is null)
        {
            return;
        }

        var started = new TaskCompletionSource();
        await using var _ = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);

        using var api = new HttpClient { BaseAddress = new Uri(self) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var sim = new HttpClient { BaseAddress = new Uri(simulators) };
        for (var attempt = 1; attempt <= 10 && !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await UseCaseCatalog.InstallAsync(api, sim, new Uri(self), stoppingToken);
                logger.LogInformation("Installed {Count} use-case recipes for the bootstrap tenant", UseCaseCatalog.Recipes.Count);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Installing the use cases failed (attempt {Attempt}): {Reason}", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(3), stoppingToken);
            }
        }
    }
}
