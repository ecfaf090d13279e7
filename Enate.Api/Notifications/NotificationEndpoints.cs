using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Domain.Notifications;
using Enate.Domain.Security;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Notifications;

public sealed record EndpointRequest(string? Url, string[]? Types, string? Description);

public sealed record EndpointView(Guid Id, string Url, IReadOnlyList<string> Types, string? Description, DateTimeOffset CreatedAt,
    string CreatedBy, DateTimeOffset? FailingSince, DateTimeOffset? DisabledAt, string? DisabledReason)
{
    public static EndpointView Of(NotificationEndpoint e) =>
        new(e.Id, e.Url, e.Types, e.Description, e.CreatedAt, e.CreatedBy, e.FailingSince, e.DisabledAt, e.DisabledReason);
}

/// An endpoint with its signing secret, in the answer that makes it or rotates its secret only.
public sealed record EndpointCreated(EndpointView Endpoint, string Secret);

public sealed record DeliveryResent(Guid Id, string Status);

/// A tenant's notification endpoints, and the deliveries made to them: every event type in
/// `NotificationTypes.All` is sent as a Standard Webhooks request signed with the endpoint's secret, retried on the
/// Svix schedule, and every attempt is recorded (docs/notifications.md).
public static class NotificationEndpoints
{
    /// Registers an endpoint for the event types named; the answer shows its signing secret, once.
    [WolverinePost("/api/v1/notifications/endpoints", OperationId = "CreateNotificationEndpoint")]
    [ProducesResponseType<EndpointCreated>(201)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    public static async Task<IResult> Create(EndpointRequest request, ClaimsPrincipal user, IDocumentSession session,
        IDataProtectionProvider protection, TimeProvider clock, CancellationToken ct)
    {
        if (Check(request) is { Count: > 0 } errors) return Problems.Validation(errors);
        var secret = Notification.NewSecret();
        var endpoint = new NotificationEndpoint
        {
            Id = Guid.CreateVersion7(), Url = request.Url!.Trim(), Types = request.Types!.Distinct().Order(StringComparer.Ordinal).ToList(),
            Description = request.Description, SecretProtected = protection.CreateProtector(Notification.SecretPurpose).Protect(secret),
            CreatedAt = clock.GetUtcNow(), CreatedBy = user.Who(),
        };
        session.Insert(endpoint);
        await session.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/notifications/endpoints/{endpoint.Id}", new EndpointCreated(EndpointView.Of(endpoint), secret));
    }

    /// The tenant's endpoints, without their secrets. Admin only: a receiver's URL often carries a token of its own.
    [WolverineGet("/api/v1/notifications/endpoints", OperationId = "ListNotificationEndpoints")]
    [ProducesResponseType<Page<EndpointView>>(200)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> List(IQuerySession session, int? limit, string? cursor, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "endpoint", out var position) is { } refused) return refused;
        var query = session.Query<NotificationEndpoint>().AsQueryable();
        if (position is not null)
        {
            if (!Guid.TryParseExact(position, "N", out var after)) return Paging.InvalidCursor;
            query = query.Where(e => e.MatchesSql("d.id > ?", after));
        }
        var take = limit ?? Paging.DefaultLimit;
        var read = await query.OrderBy(e => e.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(read.Select(EndpointView.Of).ToList(), take, e => e.Id.ToString("N"), "endpoint"));
    }

    /// One endpoint: since when it fails, and whether and why it was disabled.
    [WolverineGet("/api/v1/notifications/endpoints/{id}", OperationId = "GetNotificationEndpoint")]
    [ProducesResponseType<EndpointView>(200)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    public static async Task<IResult> Get(Guid id, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<NotificationEndpoint>(id, ct) is { } endpoint
            ? Results.Ok(EndpointView.Of(endpoint))
            : Problems.NotFound($"Notification endpoint {id}");

    /// Removes the endpoint; deliveries still pending to it end as failed at their next attempt. Their records stay.
    [WolverineDelete("/api/v1/notifications/endpoints/{id}", OperationId = "DeleteNotificationEndpoint")]
    [ProducesResponseType(204)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    public static async Task<IResult> Delete(Guid id, IDocumentSession session, CancellationToken ct)
    {
        if (await session.LoadAsync<NotificationEndpoint>(id, ct) is null) return Problems.NotFound($"Notification endpoint {id}");
        session.Delete<NotificationEndpoint>(id);
        await session.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// Enables an endpoint the platform disabled after its failures: it receives what happens from now on (resend
    /// what it missed from the deliveries list).
    [WolverinePost("/api/v1/notifications/endpoints/{id}/enable", OperationId = "EnableNotificationEndpoint")]
    [ProducesResponseType<EndpointView>(200)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    public static async Task<IResult> Enable(Guid id, IDocumentSession session, CancellationToken ct)
    {
        if (await session.LoadAsync<NotificationEndpoint>(id, ct) is not { } endpoint) return Problems.NotFound($"Notification endpoint {id}");
        (endpoint.DisabledAt, endpoint.DisabledReason, endpoint.FailingSince) = (null, null, null);
        session.Store(endpoint);
        await session.SaveChangesAsync(ct);
        return Results.Ok(EndpointView.Of(endpoint));
    }

    /// A new signing secret, shown in this answer only; the old one stops signing at once.
    [WolverinePost("/api/v1/notifications/endpoints/{id}/rotate-secret", OperationId = "RotateNotificationSecret")]
    [ProducesResponseType<EndpointCreated>(200)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    public static async Task<IResult> Rotate(Guid id, IDocumentSession session, IDataProtectionProvider protection, CancellationToken ct)
    {
        if (await session.LoadAsync<NotificationEndpoint>(id, ct) is not { } endpoint) return Problems.NotFound($"Notification endpoint {id}");
        var secret = Notification.NewSecret();
        endpoint.SecretProtected = protection.CreateProtector(Notification.SecretPurpose).Protect(secret);
        session.Store(endpoint);
        await session.SaveChangesAsync(ct);
        return Results.Ok(new EndpointCreated(EndpointView.Of(endpoint), secret));
    }

    /// Deliveries, newest first, with every attempt; filtered by endpoint, status and event type.
    [WolverineGet("/api/v1/notifications/deliveries", OperationId = "ListNotificationDeliveries")]
    [ProducesResponseType<Page<NotificationDelivery>>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Notifications")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> Deliveries(IQuerySession session, Guid? endpoint, string? status, string? type, int? limit,
        string? cursor, CancellationToken ct)
    {
        if (status is not null && !DeliveryStatus.All.Contains(status))
            return Problems.Validation([new("$status", $"must be one of {string.Join(", ", DeliveryStatus.All)}.")]);
        if (Paging.Check(limit, cursor, "delivery", out var position) is { } refused) return refused;
        var query = session.Query<NotificationDelivery>().AsQueryable();
        if (endpoint is not null) query = query.Where(d => d.EndpointId == endpoint);
        if (status is not null) query = query.Where(d => d.Status == status);
        if (type is not null) query = query.Where(d => d.Type == type);
        if (position is not null)
        {
            if (position.Split('_') is not [var ticks, var id] || !long.TryParse(ticks, out var at) || !Guid.TryParseExact(id, "N", out var after))
                return Paging.InvalidCursor;
            var queuedAt = new DateTimeOffset(at, TimeSpan.Zero);
            query = query.Where(d => d.QueuedAt < queuedAt || (d.QueuedAt == queuedAt && d.MatchesSql("d.id < ?", after)));
        }
        var take = limit ?? Paging.DefaultLimit;
        var read = await query.OrderByDescending(d => d.QueuedAt).ThenByDescending(d => d.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(read, take, d => $"{d.QueuedAt.UtcTicks}_{d.Id:N}", "delivery"));
    }

    /// One delivery and every attempt of it.
    [WolverineGet("/api/v1/notifications/deliveries/{id}", OperationId = "GetNotificationDelivery")]
    [ProducesResponseType<NotificationDelivery>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Notifications")]
    public static async Task<IResult> Delivery(Guid id, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<NotificationDelivery>(id, ct) is { } delivery
            ? Results.Ok(delivery)
            : Problems.NotFound($"Delivery {id}");

    /// Sends a delivery again under the same `webhook-id` (a receiver that saw it drops the repeat), with the whole
    /// retry schedule; a delivery still pending is sent at once.
    [WolverinePost("/api/v1/notifications/deliveries/{id}/resend", OperationId = "ResendNotification")]
    [ProducesResponseType<DeliveryResent>(202)]
    [Authorize(Policy = Scopes.Admin)]
    [Tags("Notifications")]
    [Answers("endpoint-disabled", "concurrent-change")]
    public static async Task<IResult> Resend(Guid id, ClaimsPrincipal user, IDocumentSession session, IMessageBus bus, TimeProvider clock,
        CancellationToken ct)
    {
        // Read for writing: an attempt recorded meanwhile makes this resend a 409, so its message never carries numbers
        // the delivery has left behind (and the attempt's own message never those of a resend).
        var stream = await session.Events.FetchForWriting<NotificationDelivery>(id, ct);
        if (stream.Aggregate is not { } delivery) return Problems.NotFound($"Delivery {id}");
        var endpoint = await session.LoadAsync<NotificationEndpoint>(delivery.EndpointId, ct);
        if (endpoint is null) return Problems.NotFound($"Notification endpoint {delivery.EndpointId}");
        if (endpoint.DisabledAt is not null)
            return Problems.Conflict("endpoint-disabled", $"Notification endpoint {endpoint.Id} is disabled: enable it first.");
        stream.AppendOne(new NotificationResent(id, user.Who(), clock.GetUtcNow()));
        // The resend starts the schedule again (round 0) after the attempts made so far.
        await bus.PublishAsync(new DeliverNotification(id, session.TenantId, delivery.Attempts.Count, Round: 0),
            new DeliveryOptions { TenantId = session.TenantId });
        await session.SaveChangesAsync(ct);
        return Results.Accepted($"/api/v1/notifications/deliveries/{id}", new DeliveryResent(id, DeliveryStatus.Pending));
    }

    private static List<FieldProblem> Check(EndpointRequest request)
    {
        var errors = new List<FieldProblem>();
        if (!Uri.TryCreate(request.Url?.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
            errors.Add(new("$.url", "must be an absolute http or https URL."));
        else if (url.UserInfo.Length > 0 || url.Fragment.Length > 0)
            errors.Add(new("$.url", "must carry no user name, password or fragment: the endpoint authenticates messages by their signature."));
        else if (request.Url!.Length > 2000) errors.Add(new("$.url", "must be at most 2000 characters."));
        if (request.Types is not { Length: > 0 }) errors.Add(new("$.types", $"must name at least one of {string.Join(", ", NotificationTypes.All)}."));
        else
            for (var i = 0; i < request.Types.Length; i++)
                if (!NotificationTypes.All.Contains(request.Types[i]))
                    errors.Add(new($"$.types[{i}]", $"must be one of {string.Join(", ", NotificationTypes.All)}."));
        if (request.Description is { Length: > 500 }) errors.Add(new("$.description", "must be at most 500 characters."));
        return errors;
    }
}
