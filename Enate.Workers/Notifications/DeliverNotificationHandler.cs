using System.Diagnostics;
using System.Text;
using Enate.Domain.Notifications;
using Enate.Domain.Outbound;
using Enate.Domain.Platform;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Wolverine;

namespace Enate.Workers.Notifications;

/// Makes one attempt of a delivery: a POST signed as Standard Webhooks (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) through the platform's outbound guard, recorded with its answer. A 2xx delivers it; anything
/// else schedules the next attempt on the Svix schedule, or ends it failed when the schedule is spent. An endpoint
/// that has failed every attempt for `Enate:Notifications:DisableAfter` (5 days) is disabled, and the tenant's
/// endpoints that take `endpoint.disabled` are told.
public static class DeliverNotificationHandler
{
    public static async Task Handle(DeliverNotification command, IDocumentSession session, IMessageContext bus, TimeProvider clock,
        IHttpClientFactory clients, IDataProtectionProvider protection, IConfiguration configuration, ILogger<NotificationDelivery> logger,
        CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<NotificationDelivery>(command.DeliveryId, ct);
        if (stream.Aggregate is not { Status: DeliveryStatus.Pending } delivery) return;
        var now = clock.GetUtcNow();
        // A message overtaken by a resend or by a later attempt's own message: that one makes the attempt.
        if (!command.IsCurrent(delivery, now)) return;

        var endpoint = await session.LoadAsync<NotificationEndpoint>(delivery.EndpointId, ct);
        if (endpoint is null || endpoint.DisabledAt is not null)
        {
            stream.AppendOne(new NotificationAbandoned(delivery.Id, endpoint is null ? "The endpoint was removed." : "The endpoint is disabled.", now));
            return;
        }

        var (status, error, elapsed) = await SendAsync(clients, protection, endpoint, delivery, now, ct);
        var attempt = delivery.Attempts.Count + 1;
        if (status is >= 200 and < 300)
        {
            stream.AppendMany(new NotificationAttempted(delivery.Id, attempt, status, null, elapsed, now, null), new NotificationDelivered(delivery.Id, now));
            if (endpoint.FailingSince is not null)
            {
                endpoint.FailingSince = null;
                session.Store(endpoint);
            }
            return;
        }

        var round = delivery.Round + 1;
        var next = round < Notification.Schedule.Length ? now + Notification.Schedule[round] : (DateTimeOffset?)null;
        endpoint.FailingSince ??= now;
        var disableAfter = configuration.GetValue("Enate:Notifications:DisableAfter", Notification.DefaultDisableAfter);
        if (now - endpoint.FailingSince >= disableAfter)
        {
            stream.AppendMany(new NotificationAttempted(delivery.Id, attempt, status, error, elapsed, now, null),
                new NotificationAbandoned(delivery.Id, "The endpoint was disabled: it failed every attempt for longer than allowed.", now));
            endpoint.DisabledAt = now;
            endpoint.DisabledReason = $"Every attempt failed since {endpoint.FailingSince:u}; the last: {error ?? $"HTTP {status}"}.";
            session.Store(endpoint);
            logger.LogWarning("Notification endpoint {Endpoint} of tenant {Tenant} is disabled: {Reason}", endpoint.Id, session.TenantId,
                endpoint.DisabledReason);
            var data = System.Text.Json.JsonSerializer.SerializeToElement(new { endpointId = endpoint.Id, reason = endpoint.DisabledReason });
            await bus.PublishAsync(new Notify(Notify.IdFor(NotificationTypes.EndpointDisabled, $"{endpoint.Id}:{now.UtcTicks}"),
                NotificationTypes.EndpointDisabled, now, data, session.TenantId), new DeliveryOptions { TenantId = session.TenantId });
            return;
        }
        session.Store(endpoint);
        stream.AppendOne(new NotificationAttempted(delivery.Id, attempt, status, error, elapsed, now, next));
        if (next is null)
        {
            stream.AppendOne(new NotificationAbandoned(delivery.Id, $"No success after {round} attempts.", now));
            return;
        }
        // The delivery's numbers once this attempt is recorded.
        await bus.PublishAsync(new DeliverNotification(delivery.Id, session.TenantId, attempt, round),
            new DeliveryOptions { TenantId = session.TenantId, ScheduleDelay = next - now });
    }

    /// The endpoint's status, or null and why when no answer came. The error names no secret: the signature is the
    /// only thing derived from it, and it is not recorded.
    private static async Task<(int? Status, string? Error, double Milliseconds)> SendAsync(IHttpClientFactory clients,
        IDataProtectionProvider protection, NotificationEndpoint endpoint, NotificationDelivery delivery, DateTimeOffset now, CancellationToken ct)
    {
        var secret = protection.CreateProtector(Notification.SecretPurpose).Unprotect(endpoint.SecretProtected);
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.NotificationId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Notification.Sign(secret, delivery.NotificationId, timestamp, delivery.Payload));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Notification.Timeout);
        // An endpoint's URL may hold its credential in the path (chat tools' webhook URLs do), and the HTTP client's own
        // span records the whole URL: that span is not made, and this one names the endpoint's origin only.
        var url = new Uri(endpoint.Url);
        using var span = Telemetry.Source.StartActivity("POST notification", ActivityKind.Client);
        span?.SetTag("url.full", $"{url.Scheme}://{url.Authority}/…");
        span?.SetTag("server.address", url.Host);
        span?.SetTag("server.port", url.Port);
        using var unrecorded = OpenTelemetry.SuppressInstrumentationScope.Begin();
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await clients.CreateClient(OutboundCaller.ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            span?.SetTag("http.response.status_code", (int)response.StatusCode);
            return ((int)response.StatusCode, response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}", watch.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"No answer within {Notification.Timeout.TotalSeconds:0} s.", watch.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException e)
        {
            return (null, e.InnerException is AddressRefusedException blocked ? blocked.Message : $"Could not connect: {e.HttpRequestError}.",
                watch.Elapsed.TotalMilliseconds);
        }
    }
}
