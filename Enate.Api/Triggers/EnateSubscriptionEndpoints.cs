using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Api.Platform;
using Enate.Api.Runs;
using Enate.Api.Security;
using Enate.Domain.Connections;
using Enate.Domain.Inbound;
using Enate.Domain.Outbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Domain.Engine;
using Enate.Domain.Transforms;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Triggers;

public sealed record SubscriptionRequest(string? Connection, string? Webhook, int? FilterObjectType, Guid? FilterObjectGuid);

/// The runs a delivery started (none when no recipe matched it).
public sealed record RunsStarted(Guid[] RunIds);

public sealed record SubscriptionView(Guid Id, string Url, string Connection, string Webhook, int? FilterObjectType,
    Guid? FilterObjectGuid, string? EnateGuid, DateTimeOffset CreatedAt);

public static class EnateSubscriptionEndpoints
{
    public static readonly string[] Webhooks =
        ["PacketCreated", "PacketUpdated", "NewCommunication", "BusinessObjectCreated", "BusinessObjectUpdated", "SpecificBusinessObjectUpdated"];

    private static readonly int[] FilterObjectTypes = [31, 215, 217];
    public const string HeaderName = "X-Enate-Platform-Secret";

    /// Registers a webhook subscription with Enate (its /WebHookSubscription API) pointing at this platform, with a
    /// generated custom-header secret that Enate sends back with every delivery.
    [WolverinePost("/api/v1/enate/subscriptions", OperationId = "SubscribeToEnateWebhook")]
    [ProducesResponseType<SubscriptionView>(201)]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Answers("enate-unavailable")]
    public static async Task<IResult> Subscribe(SubscriptionRequest request, HttpRequest http, ClaimsPrincipal user,
        IDocumentStore store, OutboundCaller caller, IDataProtectionProvider protection, TimeProvider clock, CancellationToken ct)
    {
        var tenant = user.Tenant();
        await using var session = store.LightweightSession(tenant);
        var connection = request.Connection is null ? null : await session.LoadAsync<Connection>(request.Connection, ct);
        var errors = new List<FieldProblem>();
        if (connection is null) errors.Add(new("$.connection", "must name an existing connection."));
        else if (connection.Kind != "enate") errors.Add(new("$.connection", $"connection '{connection.Id}' is of kind '{connection.Kind}', not 'enate'."));
        if (request.Webhook is null || !Webhooks.Contains(request.Webhook))
            errors.Add(new("$.webhook", $"must be one of {string.Join(", ", Webhooks)}."));
        if (request.FilterObjectType is { } type && !FilterObjectTypes.Contains(type))
            errors.Add(new("$.filterObjectType", "must be 31 (Company), 215 (Contract) or 217 (Service)."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetUtcNow();
        var id = Enate.Domain.Platform.OrderedIds.Next(now);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var url = $"{PublicBase(http)}/api/v1/enate/webhooks/{id}";
        var body = new JsonObject
        {
            ["Webhook"] = request.Webhook, ["SubscriberURL"] = url, ["CustomHeader"] = HeaderName, ["CustomHeaderValue"] = secret,
            ["FilterObjectType"] = request.FilterObjectType, ["FilterObjectGUID"] = request.FilterObjectGuid?.ToString(),
        };
        var plan = new CallPlan(connection!.Id, "POST", "/api/v1/WebHookSubscription", new Dictionary<string, string>(),
            body.ToJsonString(), "application/json");
        var sent = OutboundRequests.Describe(id, "subscribe", 1, plan, connection, OutboundRequests.ResolveUrl(connection, plan.Path)!, now);
        var result = (await caller.AnswerAsync(new CallRequest(sent, plan, connection), ct))!;
        if (!result.Outcome.Succeeded)
        {
            return Problems.Problem(StatusCodes.Status502BadGateway, "enate-unavailable", "Enate did not accept the subscription.",
                result.Outcome.Error ?? $"Enate answered {result.Outcome.Status}.");
        }

        var subscription = new EnateSubscription
        {
            Id = id, TenantId = tenant, Connection = connection.Id, Webhook = request.Webhook!,
            FilterObjectType = request.FilterObjectType, FilterObjectGuid = request.FilterObjectGuid, HeaderName = HeaderName,
            HeaderValueProtected = Protector(protection).Protect(secret), EnateGuid = EnateGuid(result.Output), CreatedAt = now,
        };
        await using var platform = store.LightweightSession();
        platform.Store(subscription);
        await platform.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/enate/subscriptions/{id}", View(subscription, url));
    }

    /// The tenant's Enate webhook subscriptions, each with the address Enate delivers to.
    [WolverineGet("/api/v1/enate/subscriptions", OperationId = "ListEnateSubscriptions")]
    [ProducesResponseType<Page<SubscriptionView>>(200)]
    [Answers("invalid-cursor")]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RunsRead)]
    public static async Task<IResult> List(int? limit, string? cursor, HttpRequest http, ClaimsPrincipal user, IDocumentStore store,
        CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "subscription", out var position) is { } problem) return problem;
        Guid? after = null;
        if (position is not null)
        {
            if (!Guid.TryParseExact(position, "N", out var id)) return Paging.InvalidCursor;
            after = id;
        }
        var tenant = user.Tenant();
        await using var session = store.QuerySession();
        var query = session.Query<EnateSubscription>().Where(s => s.TenantId == tenant);
        // Subscription ids are version 7 GUIDs: in the order the subscriptions were made.
        if (after is not null) query = query.Where(s => s.MatchesSql("d.id > ?", after.Value));
        var take = limit ?? Paging.DefaultLimit;
        var read = await query.OrderBy(s => s.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(read.Select(s => View(s, $"{PublicBase(http)}/api/v1/enate/webhooks/{s.Id}")).ToList(), take,
            s => s.Id.ToString("N"), "subscription"));
    }

    /// Enate's webhook delivery. Authenticated by the subscription's custom header (constant-time comparison).
    /// Enate sends no event id and may deliver twice: the delivery key is the webhook type, the packet GUID and
    /// a hash of the state it reports, so a repeat starts nothing and a real change starts new runs.
    [Consumes(typeof(System.Text.Json.JsonElement), "application/json")]
    [WolverinePost("/api/v1/enate/webhooks/{subscriptionId}", OperationId = "ReceiveEnateWebhook")]
    [ProducesResponseType<RunsStarted>(202)]
    [ProducesResponseType<RunsStarted>(200)]
    [Tags("Triggers")]
    [AllowAnonymous]
    [Answers("bad-signature", "tenant-disabled")]
    public static async Task<IResult> Receive(Guid subscriptionId, HttpRequest request, InboundRequests inbound,
        IDocumentStore store, IDataProtectionProvider protection, Tenants.TenantStatus tenants, CancellationToken ct)
    {
        await using var platform = store.QuerySession();
        var subscription = await platform.LoadAsync<EnateSubscription>(subscriptionId, ct);
        var copy = await InboundCopy.ReadAsync(request, TriggerTypes.EnateWebhook, subscriptionId.ToString(), inbound.Now,
            subscription?.HeaderName ?? HeaderName);
        if (subscription is null)
        {
            await inbound.RejectUnknownAsync(copy, "Unknown subscription.", ct);
            return Problems.NotFound($"Subscription '{subscriptionId}'");
        }

        var expected = Encoding.UTF8.GetBytes(Protector(protection).Unprotect(subscription.HeaderValueProtected));
        var presented = Encoding.UTF8.GetBytes(request.Headers[subscription.HeaderName].ToString());
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            await inbound.RejectAsync(subscription.TenantId, copy, 401, $"Missing or wrong {subscription.HeaderName} header.", ct);
            return Problems.Problem(StatusCodes.Status401Unauthorized, "bad-signature", "Not authenticated.",
                $"The {subscription.HeaderName} header does not match this subscription.");
        }
        if (await tenants.RefusalAsync(subscription.TenantId, copy, inbound, ct) is { } disabled) return disabled;
        if (copy.Json() is not { ValueKind: JsonValueKind.Object } input)
        {
            var malformed = copy.JsonProblem ?? "The body is not a JSON object.";
            await inbound.RejectAsync(subscription.TenantId, copy, 400, malformed, ct);
            return Problems.BadRequest("malformed-json", malformed);
        }

        var webhook = input.TryGetProperty("Webhook", out var w) && w.ValueKind == JsonValueKind.String ? w.GetString()! : subscription.Webhook;
        var recipes = await MatchingRecipesAsync(store, subscription.TenantId, webhook, input, ct);
        var result = await inbound.AcceptAsync(subscription.TenantId, copy, DeliveryKey(subscription.Id, webhook, input),
            recipes, $"enate subscription {subscription.Id}", ct);
        var answer = new RunsStarted(result.RunIds);
        return result.Duplicate || result.RunIds.Length == 0 ? Results.Ok(answer) : Results.Json(answer, statusCode: 202);
    }

    public static string DeliveryKey(Guid subscriptionId, string webhook, JsonElement body)
    {
        var data = body.TryGetProperty("Data", out var d) ? d : body;
        var packet = data.ValueKind == JsonValueKind.Object &&
                     (data.TryGetProperty("PacketGUID", out var g) || data.TryGetProperty("GUID", out g)) ? g.ToString() : "";
        // Enate repeats a delivery byte for byte: the reported state is hashed as sent, no re-serializing.
        var state = RunStarter.Sha256(data.GetRawText());
        return $"enate:{subscriptionId}:{webhook}:{packet}:{state}";
    }

    private static async Task<List<Recipe>> MatchingRecipesAsync(IDocumentStore store, string tenant, string webhook,
        JsonElement input, CancellationToken ct)
    {
        await using var session = store.QuerySession(tenant);
        var candidates = await session.Query<Recipe>()
            .Where(r => r.Active && r.TriggerType == TriggerTypes.EnateWebhook && r.TriggerWebhook == webhook).ToListAsync(ct);
        var matching = new List<Recipe>();
        var node = Enate.Domain.Platform.JsonText.Node(input);
        foreach (var recipe in candidates)
        {
            var version = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(recipe.Id, recipe.LatestVersion), ct);
            var filter = version?.Definition.Trigger.Filter;
            if (filter is null || Expressions.IsTruthy(Expressions.Evaluate(filter, node))) matching.Add(recipe);
        }
        return matching;
    }

    private static string? EnateGuid(JsonElement output) =>
        output.ValueKind == JsonValueKind.Object && output.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object &&
        body.TryGetProperty("GUID", out var guid) ? guid.ToString() : null;

    private static IDataProtector Protector(IDataProtectionProvider protection) => protection.CreateProtector("Enate.Subscriptions.Secrets.v1");

    private static SubscriptionView View(EnateSubscription s, string url) =>
        new(s.Id, url, s.Connection, s.Webhook, s.FilterObjectType, s.FilterObjectGuid, s.EnateGuid, s.CreatedAt);

    /// Where Enate and partners reach this platform: `Enate:PublicUrl` (required outside Development: PublicAddress),
    /// else this request's host.
    public static string PublicBase(HttpRequest http) =>
        http.HttpContext.RequestServices.GetRequiredService<IConfiguration>()["Enate:PublicUrl"]?.TrimEnd('/')
        ?? $"{http.Scheme}://{http.Host}";
}
