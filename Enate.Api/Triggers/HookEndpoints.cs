using Enate.Api.Runs;
using Microsoft.AspNetCore.Mvc;
using System.Security.Cryptography;
using System.Text;
using Enate.Api.Platform;
using Enate.Api.Recipes;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using Wolverine;
using Wolverine.Http;

namespace Enate.Api.Triggers;

public sealed record HookView(string Url, string Secret);

public static class HookEndpoints
{
    /// The partner-facing URL and signing secret of a `webhook` recipe (created on first request).
    [WolverineGet("/api/v1/recipes/{key}/webhook", OperationId = "GetRecipeWebhook")]
    [ProducesResponseType<HookView>(200)]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    public static async Task<IResult> Get(string key, HttpRequest request, IQuerySession session, HookSecrets secrets,
        CancellationToken ct)
    {
        if (await WebhookRecipe(session, key, ct) is { } problem) return problem;
        var hook = await secrets.FindOrCreateAsync(session.TenantId, key, ct);
        return Results.Ok(new HookView(HookSecrets.UrlOf(request, hook.Id), secrets.Newest(hook)));
    }

    /// A new secret; the previous one keeps verifying for 24 hours so the partner can switch without loss.
    [WolverinePost("/api/v1/recipes/{key}/webhook/rotate-secret", OperationId = "RotateRecipeWebhookSecret")]
    [ProducesResponseType<HookView>(200)]
    [Tags("Triggers")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    public static async Task<IResult> Rotate(string key, HttpRequest request, IQuerySession session, HookSecrets secrets,
        CancellationToken ct)
    {
        if (await WebhookRecipe(session, key, ct) is { } problem) return problem;
        var hook = await secrets.RotateAsync(session.TenantId, key, ct);
        return Results.Ok(new HookView(HookSecrets.UrlOf(request, hook.Id), secrets.Newest(hook)));
    }

    /// A partner's webhook, verified as Standard Webhooks (HMAC-SHA256 over id.timestamp.body, 5 minutes
    /// tolerance, several signatures, constant-time comparison). A repeated webhook-id starts nothing.
    [Consumes(typeof(System.Text.Json.JsonElement), "application/json")]
    [WolverinePost("/api/v1/hooks/{hookId}", OperationId = "ReceivePartnerWebhook")]
    [ProducesResponseType<RunAccepted>(202)]
    [ProducesResponseType<RunAccepted>(200)]
    [Tags("Triggers")]
    [AllowAnonymous]
    [Answers("bad-signature", "tenant-disabled", "recipe-inactive", "trigger-mismatch")]
    public static async Task<IResult> Receive(Guid hookId, HttpRequest request, InboundRequests inbound,
        HookSecrets secrets, RecipeCache recipes, Tenants.TenantStatus tenants, CancellationToken ct)
    {
        var copy = await InboundCopy.ReadAsync(request, TriggerTypes.Webhook, hookId.ToString(), inbound.Now);
        var known = await secrets.FindAsync(hookId, ct);
        if (known is null)
        {
            await inbound.RejectUnknownAsync(copy, "Unknown hook.", ct);
            return Problems.NotFound($"Hook '{hookId}'");
        }

        var hook = known.Hook;
        // The signature is over the body as text: a body that is no UTF-8 text could not be verified, only refused.
        if (!System.Text.Unicode.Utf8.IsValid(copy.Body))
        {
            await inbound.RejectAsync(hook.TenantId, copy, 400, "The body is not UTF-8 text.", ct);
            return Problems.BadRequest("malformed-json", "The body is not UTF-8 text, so it is not JSON.");
        }
        if (!secrets.Verify(known, copy.Body, request.Headers, out var failure))
        {
            await inbound.RejectAsync(hook.TenantId, copy, 401, $"Signature: {failure}", ct);
            return Problems.Problem(StatusCodes.Status401Unauthorized, "bad-signature", "Bad signature.",
                "The webhook signature does not verify (Standard Webhooks: webhook-id, webhook-timestamp within 5 minutes, webhook-signature).");
        }
        // Only a partner that proved who it is learns that the tenant is disabled.
        if (await tenants.RefusalAsync(hook.TenantId, copy, inbound, ct) is { } disabled) return disabled;
        if (copy.JsonProblem is { } malformed)
        {
            await inbound.RejectAsync(hook.TenantId, copy, 400, malformed, ct);
            return Problems.BadRequest("malformed-json", malformed);
        }

        var recipe = await recipes.FindAsync(hook.TenantId, hook.RecipeKey, ct);
        if (recipe is not { Active: true } || recipe.TriggerType != TriggerTypes.Webhook)
        {
            await inbound.RejectAsync(hook.TenantId, copy, 409, "The recipe is missing, inactive or no longer webhook-triggered.", ct);
            return Problems.Conflict("recipe-inactive", $"Recipe '{hook.RecipeKey}' does not accept webhooks now.");
        }

        var result = await inbound.AcceptAsync(hook.TenantId, copy, $"hook:{hook.Id}:{request.Headers["webhook-id"]}",
            [recipe], $"webhook {hook.Id}", ct);
        return result.Duplicate
            ? Results.Ok(new RunAccepted(result.RunIds[0]))
            : Results.Accepted($"/api/v1/runs/{result.RunIds[0]}", new RunAccepted(result.RunIds[0]));
    }

    private static async Task<IResult?> WebhookRecipe(IQuerySession session, string key, CancellationToken ct)
    {
        var recipe = await session.LoadAsync<Recipe>(key, ct);
        if (recipe is null) return Problems.NotFound($"Recipe '{key}'");
        return recipe.TriggerType == TriggerTypes.Webhook
            ? null
            : Problems.Conflict("trigger-mismatch", $"Recipe '{key}' is triggered by '{recipe.TriggerType}', not by a webhook.");
    }
}

/// A hook and the verifiers of its secrets that are valid now.
public sealed record KnownHook(Hook Hook, StandardWebhook[] Verifiers);

/// Hook documents and their secrets: encrypted at rest, cached briefly in memory in the clear.
public sealed class HookSecrets(IDocumentStore store, IDataProtectionProvider protection, TimeProvider clock)
{
    public static readonly TimeSpan Overlap = TimeSpan.FromHours(24);
    private readonly IDataProtector _protector = protection.CreateProtector("Enate.Hooks.Secrets.v1");
    /// A rotation here takes effect at once; on another replica the new secret verifies within 5 seconds.
    private readonly FreshCache<Guid, KnownHook?> _hooks = new(TimeSpan.FromSeconds(5), clock);

    public static string UrlOf(HttpRequest request, Guid id) => $"{EnateSubscriptionEndpoints.PublicBase(request)}/api/v1/hooks/{id}";

    public string Newest(Hook hook) => _protector.Unprotect(hook.Secrets[^1].Protected);

    public ValueTask<KnownHook?> FindAsync(Guid id, CancellationToken ct) => _hooks.GetAsync(id, async key =>
    {
        await using var session = store.QuerySession();
        var hook = await session.LoadAsync<Hook>(key);
        if (hook is null) return null;
        var now = clock.GetUtcNow();
        return new KnownHook(hook, hook.Secrets.Where(s => s.RetiresAt is null || s.RetiresAt > now)
            .Select(s => new StandardWebhook(_protector.Unprotect(s.Protected))).ToArray());
    }, ct);

    /// The longest webhook-id taken (Standard Webhooks' ids are short, such as msg_2KWPBgLlAfxdpx2AI54pPJ85f4W).
    public const int MaxIdLength = 256;

    public bool Verify(KnownHook hook, byte[] body, IHeaderDictionary headers, out string failure)
    {
        // The id is what tells a repeat from a new delivery: without one, or with one no log line can show, no delivery
        // could be told from another, so none is taken, signed or not.
        if (headers["webhook-id"] is not [{ Length: >= 1 and <= MaxIdLength } id] || id.Any(c => c is <= ' ' or > '~'))
        {
            failure = $"the webhook-id header is missing, empty, longer than {MaxIdLength} characters or not printable ASCII";
            return false;
        }
        failure = "no active secret";
        var payload = Encoding.UTF8.GetString(body);
        // The package (1.1.2) compares only the first signature of a list, so each one is offered to it alone:
        // a sender signing with old and new secret during its own rotation must verify whichever order it uses.
        var signatures = headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var signature in signatures.Take(10))
        {
            var single = new HeaderDictionary
            {
                ["webhook-id"] = headers["webhook-id"],
                ["webhook-timestamp"] = headers["webhook-timestamp"],
                ["webhook-signature"] = signature,
            };
            foreach (var verifier in hook.Verifiers)
            {
                try
                {
                    verifier.Verify(payload, single);
                    return true;
                }
                catch (WebhookVerificationException ex)
                {
                    failure = ex.Message;
                }
                catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or InvalidOperationException)
                {
                    // A header of the wrong shape ("v1," with no signature, a timestamp that is not a number) is just unsigned.
                    failure = "malformed webhook-id, webhook-timestamp or webhook-signature header";
                }
            }
        }
        if (signatures.Length == 0) failure = "no webhook-signature header";
        return false;
    }

    public async Task<Hook> FindOrCreateAsync(string tenant, string recipeKey, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var hook = await session.Query<Hook>().FirstOrDefaultAsync(h => h.TenantId == tenant && h.RecipeKey == recipeKey, ct);
        if (hook is not null) return hook;
        hook = new Hook { Id = Guid.CreateVersion7(), TenantId = tenant, RecipeKey = recipeKey, CreatedAt = clock.GetUtcNow() };
        hook.Secrets.Add(NewSecret());
        session.Store(hook);
        await session.SaveChangesAsync(ct);
        return hook;
    }

    public async Task<Hook> RotateAsync(string tenant, string recipeKey, CancellationToken ct)
    {
        var hook = await FindOrCreateAsync(tenant, recipeKey, ct);
        var now = clock.GetUtcNow();
        hook.Secrets = hook.Secrets.Where(s => s.RetiresAt is null || s.RetiresAt > now)
            .Select(s => s.RetiresAt is null ? s with { RetiresAt = now + Overlap } : s).ToList();
        hook.Secrets.Add(NewSecret());
        await using var session = store.LightweightSession();
        session.Store(hook);
        await session.SaveChangesAsync(ct);
        _hooks.Forget(hook.Id);
        return hook;
    }

    private HookSecret NewSecret() =>
        new(_protector.Protect("whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))), clock.GetUtcNow(), null);
}
