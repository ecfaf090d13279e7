using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

public sealed record WebHookSubscription(
    Guid GUID, string Webhook, string SubscriberURL, int? FilterObjectType, Guid? FilterObjectGUID,
    string? CustomHeader, string? CustomHeaderValue, string? Signature, DateTimeOffset CreatedOn)
{
    /// The header value authenticates the platform's receiver: shown masked, like any secret.
    public object ToJson() => new Dictionary<string, object?>
    {
        ["GUID"] = GUID,
        ["Webhook"] = Webhook,
        ["SubscriberURL"] = SubscriberURL,
        ["FilterObjectType"] = FilterObjectType,
        ["FilterObjectGUID"] = FilterObjectGUID,
        ["CustomHeader"] = CustomHeader,
        ["CustomHeaderValue"] = CustomHeaderValue is null ? null : "***",
        ["Signature"] = Signature,
        ["CreatedOn"] = CreatedOn,
    };
}

/// The objects an event concerns, by Enate object type, for FilterObjectGUID/FilterObjectType matching.
public sealed record EventSubject(Guid Self, Guid? Company = null, Guid? Contract = null, Guid? Service = null)
{
    public const int CompanyType = 31, ContractType = 215, ServiceType = 217;

    public static EventSubject Of(Packet packet) => new(packet.GUID, packet.CustomerGUID, packet.ContractGUID, packet.ServiceGUID);

    public bool Matches(WebHookSubscription subscription) => subscription.FilterObjectGUID is not { } filter || subscription.FilterObjectType switch
    {
        CompanyType => Company == filter,
        ContractType => Contract == filter,
        ServiceType => Service == filter,
        _ => filter == Self || filter == Company || filter == Contract || filter == Service,
    };
}

public sealed class EnateWebhooks(EnateState state, SimulatedApps apps, WebhookSender sender, TimeProvider clock)
{
    public static readonly string[] Names =
    [
        "PacketCreated", "PacketUpdated", "NewCommunication",
        "BusinessObjectCreated", "BusinessObjectUpdated", "SpecificBusinessObjectUpdated",
    ];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };

    /// Delivers `{"Webhook", "Data"}` to every matching subscription, plus `duplicates` identical copies.
    public void Publish(string webhook, JsonObject data, EventSubject subject, int? duplicates = null)
    {
        List<WebHookSubscription> targets;
        lock (state.Sync)
        {
            targets = [.. state.Subscriptions.Values.Where(s => s.Webhook == webhook && subject.Matches(s)).OrderBy(s => s.CreatedOn)];
        }
        var body = new JsonObject { ["Webhook"] = webhook, ["Data"] = data }.ToJsonString(Json);
        var app = apps["enate"];
        foreach (var subscription in targets)
        {
            var headers = new Dictionary<string, string>();
            if (!string.IsNullOrEmpty(subscription.CustomHeader)) headers[subscription.CustomHeader] = subscription.CustomHeaderValue ?? "";
            for (var copy = 0; copy <= Math.Clamp(duplicates ?? 0, 0, 100); copy++)
            {
                sender.Send(app, new WebhookDelivery
                {
                    Id = Guid.NewGuid().ToString("N"),
                    At = clock.GetUtcNow(),
                    Event = webhook,
                    Url = subscription.SubscriberURL,
                    Body = body,
                    Target = subscription.GUID.ToString(),
                    Copy = copy,
                }, headers);
            }
        }
    }

    public sealed record Subscribe(
        string? Webhook, string? SubscriberURL, int? FilterObjectType, Guid? FilterObjectGUID,
        string? CustomHeader, string? CustomHeaderValue, string? Signature);

    public static void Map(RouteGroupBuilder api)
    {
        var subscriptions = api.MapGroup("/WebHookSubscription");

        subscriptions.MapPost("/", (Subscribe body, EnateState state, TimeProvider clock) =>
        {
            if (!Names.Contains(body.Webhook)) return Problems.BadRequest($"Webhook must be one of {string.Join(", ", Names)}.");
            if (!Problems.IsAbsoluteHttpUrl(body.SubscriberURL)) return Problems.BadRequest("SubscriberURL must be an absolute http(s) URL.");
            if (string.IsNullOrEmpty(body.CustomHeader) != string.IsNullOrEmpty(body.CustomHeaderValue))
            {
                return Problems.BadRequest("CustomHeader and CustomHeaderValue go together.");
            }
            if (!string.IsNullOrEmpty(body.CustomHeader) && body.CustomHeader.Any(c => c <= ' ' || c == ':'))
            {
                return Problems.BadRequest("CustomHeader must be a valid header name.");
            }
            var subscription = new WebHookSubscription(Guid.NewGuid(), body.Webhook!, body.SubscriberURL!, body.FilterObjectType,
                body.FilterObjectGUID, body.CustomHeader, body.CustomHeaderValue, body.Signature, clock.GetUtcNow());
            lock (state.Sync) state.Subscriptions[subscription.GUID] = subscription;
            return Results.Json(subscription.ToJson(), Json, statusCode: StatusCodes.Status201Created);
        }).IsSideEffect();

        subscriptions.MapGet("/", (EnateState state) =>
        {
            lock (state.Sync) return Results.Json(state.Subscriptions.Values.OrderBy(s => s.CreatedOn).Select(s => s.ToJson()).ToArray(), Json);
        });

        subscriptions.MapGet("/{guid:guid}", (Guid guid, EnateState state) =>
        {
            lock (state.Sync)
            {
                return state.Subscriptions.TryGetValue(guid, out var s) ? Results.Json(s.ToJson(), Json) : Problems.NotFound($"No subscription {guid}.");
            }
        });

        subscriptions.MapDelete("/{guid:guid}", (Guid guid, EnateState state) =>
        {
            lock (state.Sync) return state.Subscriptions.Remove(guid) ? Results.NoContent() : Problems.NotFound($"No subscription {guid}.");
        }).IsSideEffect();
    }
}
