using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Enate.AppHost.Dashboard;

/// Buttons on the API's resource in the dashboard, each one call of the API with the bootstrap admin key (the demo
/// tenant in Development): verify the audit chain, re-run the dead-lettered runs, rebuild the read models.
public static class ApiCommands
{
    public static IResourceBuilder<ProjectResource> WithOperatorCommands(this IResourceBuilder<ProjectResource> api,
        IResourceBuilder<ParameterResource> adminKey)
    {
        HttpCommandOptions With(HttpMethod method, object? body = null) => new()
        {
            Method = method,
            ResultMode = HttpCommandResultMode.Json,
            PrepareRequest = async context =>
            {
                context.Request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await adminKey.Resource.GetValueAsync(context.CancellationToken));
                if (body is not null) context.Request.Content = JsonContent.Create(body);
            },
        };
        return api
            .WithHttpCommand("/api/v1/audit/verify", "Verify audit", endpointName: "http", commandName: "verify-audit", commandOptions: With(HttpMethod.Get))
            .WithHttpCommand("/api/v1/replays", "Re-run dead-lettered runs", endpointName: "http", commandName: "rerun-dead-lettered",
                commandOptions: With(HttpMethod.Post, new
                {
                    filter = new { status = "deadLettered" }, recipeVersion = "original", reason = "Re-run from the dashboard",
                }))
            .WithHttpCommand("/api/v1/admin/projections/rebuild", "Rebuild read models", endpointName: "http", commandName: "rebuild-read-models",
                commandOptions: With(HttpMethod.Post));
    }
}
