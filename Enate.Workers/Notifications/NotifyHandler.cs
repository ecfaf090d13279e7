using Enate.Domain.Notifications;
using Marten;
using Wolverine;

namespace Enate.Workers.Notifications;

/// Fans a notification out to the tenant's enabled endpoints that take its type: one delivery stream each, queued
/// with the message that sends it, in one transaction. A repeat of the notification (the same id) finds its
/// deliveries there and adds none.
public static class NotifyHandler
{
    public static async Task Handle(Notify notification, IDocumentSession session, IMessageContext bus, TimeProvider clock,
        CancellationToken ct)
    {
        var endpoints = await session.Query<NotificationEndpoint>()
            .Where(e => e.DisabledAt == null && e.Types.Contains(notification.Type)).ToListAsync(ct);
        if (endpoints.Count == 0) return;
        var payload = Notification.Payload(notification);
        var now = clock.GetUtcNow();
        foreach (var endpoint in endpoints)
        {
            var id = Notification.DeliveryIdOf(notification.Id, endpoint.Id);
            if (await session.Events.FetchStreamStateAsync(id, ct) is not null) continue;
            session.Events.StartStream<NotificationDelivery>(id,
                new NotificationQueued(id, endpoint.Id, notification.Id, notification.Type, payload, now));
            await bus.PublishAsync(new DeliverNotification(id, session.TenantId, Attempts: 0, Round: 0), new DeliveryOptions { TenantId = session.TenantId });
        }
    }
}
