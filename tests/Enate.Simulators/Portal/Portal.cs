using Enate.Simulators.Common;

namespace Enate.Simulators.Portal;

public sealed record PortalMessage(string Id, string Customer, string Subject, string Body, string? From, string? ExternalId,
    string Source, DateTimeOffset CreatedAt);

/// A client web portal (pattern 2: a client's message notifies the case owner; pattern 3: an email received in Enate
/// is published to the portal).
public sealed class PortalState
{
    public const string Token = "sim-portal-token";
    private readonly Lock _sync = new();
    private readonly List<PortalMessage> _messages = [];

    public PortalState(SimulatedApps apps) => apps["portal"].OnReset(() =>
    {
        lock (_sync) _messages.Clear();
    });

    public sealed record Publish(string? Customer, string? Subject, string? Body, string? From, string? ExternalId);
    public sealed record ClientWrites(string? Customer, string? Subject, string? Body, string? From, int? Duplicates, bool? BadSignature) : IEventOptions;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var portal = routes.MapGroup("/portal").WithTags("Portal").RequireBearer(Token);
        portal.MapPost("/messages", (Publish body, PortalState state, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.Customer) || body.Subject is null || body.Body is null)
            {
                return Problems.BadRequest("customer, subject and body are required.");
            }
            var message = new PortalMessage($"m-{Guid.NewGuid():N}", body.Customer, body.Subject, body.Body, body.From, body.ExternalId,
                "integration", clock.GetUtcNow());
            lock (state._sync) state._messages.Add(message);
            return Results.Created($"/portal/messages/{message.Id}", message);
        }).IsSideEffect();
        portal.MapGet("/messages", (string? customer, PortalState state) =>
        {
            lock (state._sync)
            {
                return Results.Ok(state._messages
                    .Where(m => customer is null || string.Equals(m.Customer, customer, StringComparison.OrdinalIgnoreCase)).ToArray());
            }
        });

        routes.MapPost("/_sim/portal/messages", (ClientWrites body, HttpResponse response, PortalState state, SimulatedApps apps,
            StandardWebhooks webhooks, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.Customer) || body.Subject is null || body.Body is null)
            {
                return Problems.BadRequest("customer, subject and body are required.");
            }
            var message = new PortalMessage($"m-{Guid.NewGuid():N}", body.Customer, body.Subject, body.Body, body.From, null,
                "client", clock.GetUtcNow());
            lock (state._sync) state._messages.Add(message);
            response.Headers[StandardWebhooks.MessageIdHeader] = webhooks.Publish(apps["portal"], "message.created", message, body);
            return Results.Created($"/portal/messages/{message.Id}", message);
        }).WithTags("Portal simulation");
    }
}
