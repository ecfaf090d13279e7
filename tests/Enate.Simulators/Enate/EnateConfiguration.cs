using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// The fake Enate under /enate: OAuth2 token, the v1 API (bearer token required), and its _sim triggers.
public static class EnateConfiguration
{
    public static IServiceCollection AddEnate(this IServiceCollection services) => services
        .AddSingleton<EnateState>()
        .AddSingleton<EnateTokens>()
        .AddSingleton<EnateWebhooks>();

    public static void MapEnate(this IEndpointRouteBuilder routes)
    {
        var enate = routes.MapGroup("/enate").WithTags("Enate");
        EnateTokens.Map(enate);

        var api = enate.MapGroup("/api/v1");
        routes.ServiceProvider.GetRequiredService<EnateTokens>().Require(api);
        EnatePackets.Map(api);
        EnateUsers.Map(api);
        EnateActions.MapCallback(api);
        EnateWebhooks.Map(api);
        api.MapGet("/BusinessObject/{guid:guid}", (Guid guid, EnateState state) =>
        {
            lock (state.Sync)
            {
                return state.BusinessObjects.TryGetValue(guid, out var b) ? EnatePackets.Ok(b.ToJson()) : Problems.NotFound($"No business object {guid}.");
            }
        });

        EnateSimulation.Map(enate.MapGroup("/_sim").WithTags("Enate simulation"));
    }
}
