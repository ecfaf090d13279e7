namespace Enate.Simulators.Common;

/// The control surface shared by every app: inspection, fault injection, reset and Standard Webhooks receivers.
public static class ControlEndpoints
{
    public sealed record RegisterEndpoint(string? Url, string? Secret);

    public static void MapControlEndpoints(this IEndpointRouteBuilder routes)
    {
        var sim = routes.MapGroup("/_sim/{app}").WithTags("Simulator control");

        sim.MapGet("/requests", (string app, string? method, string? path, SimulatedApps apps) =>
            With(apps, app, a => Results.Ok(a.Requests.Snapshot()
                .Where(r => method is null || string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase))
                .Where(r => path is null || r.Path.StartsWith(path, StringComparison.OrdinalIgnoreCase)))));

        sim.MapGet("/effects", (string app, SimulatedApps apps) => With(apps, app, a => Results.Ok(a.Effects.Snapshot())));

        sim.MapGet("/faults", (string app, SimulatedApps apps, TimeProvider clock) =>
            With(apps, app, a => Results.Ok(a.Faults.Snapshot(clock.GetUtcNow()))));

        sim.MapPut("/faults", (string app, FaultSettings settings, SimulatedApps apps, TimeProvider clock) => With(apps, app, a =>
        {
            var problems = settings.Problems().ToArray();
            if (problems.Length > 0) return Problems.BadRequest(string.Join(" ", problems));
            a.Faults.Set(settings, clock.GetUtcNow());
            return Results.Ok(a.Faults.Snapshot(clock.GetUtcNow()));
        }));

        sim.MapDelete("/faults", (string app, SimulatedApps apps) => With(apps, app, a =>
        {
            a.Faults.Clear();
            return Results.NoContent();
        }));

        sim.MapDelete("/", (string app, SimulatedApps apps) => With(apps, app, a =>
        {
            a.Reset();
            return Results.NoContent();
        }));

        sim.MapGet("/deliveries", (string app, SimulatedApps apps) => With(apps, app, a => Results.Ok(a.Deliveries.Snapshot())));

        sim.MapPost("/webhook-endpoints", (string app, RegisterEndpoint body, SimulatedApps apps, TimeProvider clock) => With(apps, app, a =>
        {
            if (!Problems.IsAbsoluteHttpUrl(body.Url)) return Problems.BadRequest("url must be an absolute http(s) URL.");
            if (StandardWebhooks.DecodeSecret(body.Secret) is not { } key)
            {
                return Problems.BadRequest("secret must be \"whsec_\" followed by non-empty base64.");
            }
            var endpoint = new WebhookEndpoint($"ep_{Guid.NewGuid():N}", body.Url!, key, clock.GetUtcNow());
            a.WebhookEndpoints.Add(endpoint);
            return Results.Created($"/_sim/{a.Name}/webhook-endpoints/{endpoint.Id}", Show(endpoint));
        }));

        sim.MapGet("/webhook-endpoints", (string app, SimulatedApps apps) =>
            With(apps, app, a => Results.Ok(a.WebhookEndpoints.All().Select(Show))));

        sim.MapDelete("/webhook-endpoints/{id}", (string app, string id, SimulatedApps apps) =>
            With(apps, app, a => a.WebhookEndpoints.Remove(id) ? Results.NoContent() : Problems.NotFound($"No webhook endpoint {id}.")));

        routes.MapDelete("/_sim", (SimulatedApps apps) =>
        {
            foreach (var name in SimulatedApps.Names) apps[name].Reset();
            return Results.NoContent();
        }).WithTags("Simulator control");
    }

    private static object Show(WebhookEndpoint endpoint) => new { endpoint.Id, endpoint.Url, endpoint.CreatedAt };

    private static IResult With(SimulatedApps apps, string name, Func<SimulatedApp, IResult> action) =>
        apps.Find(name) is { } app ? action(app) : Problems.NotFound($"No simulated app '{name}'; known: {string.Join(", ", SimulatedApps.Names)}.");
}
