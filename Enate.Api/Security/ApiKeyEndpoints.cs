using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace Enate.Api.Security;

public sealed record ApiKeyRequest(string? Name, string[]? Scopes);

public sealed record ApiKeyView(Guid Id, string Name, string[] Scopes, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    public static ApiKeyView Of(ApiKey k) => new(k.KeyId, k.Name, k.Scopes, k.Prefix, k.CreatedAt, k.RevokedAt);
}

/// The key itself appears in this answer and nowhere else, ever.
public sealed record ApiKeyCreated(Guid Id, string Name, string[] Scopes, string Key);

/// The key a caller presents, as the platform sees it: whose it is and what it may do (`admin` may do everything in
/// its tenant). The operator's key has no tenant.
public sealed record CurrentKey(string Name, string? Tenant, string[] Scopes);

public static class ApiKeyEndpoints
{
    /// The key the caller presents: its name, tenant and scopes, so a tool can offer only what the key may do. Any
    /// valid key may ask.
    [WolverineGet("/api/v1/api-keys/current", OperationId = "GetCurrentApiKey")]
    [ProducesResponseType<CurrentKey>(200)]
    [Tags("API keys")]
    [Authorize]
    public static CurrentKey Current(ClaimsPrincipal user) => new(user.FindFirstValue(ClaimTypes.Name) ?? "",
        user.FindFirstValue(EnateClaims.Tenant), user.FindAll(EnateClaims.Scope).Select(c => c.Value).ToArray());

    /// Creates an API key of the caller's tenant with the scopes asked for. The key is in this answer only: it is stored
    /// as its SHA-256 and can never be read again.
    [WolverinePost("/api/v1/api-keys", OperationId = "CreateApiKey")]
    [ProducesResponseType<ApiKeyCreated>(201)]
    [Tags("API keys")]
    [Authorize(Policy = Scopes.Admin)]
    public static async Task<IResult> Create(ApiKeyRequest request, ClaimsPrincipal user, IDocumentStore store,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldProblem>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
            errors.Add(new("$.name", "A name of 1 to 100 characters is required."));
        if (request.Scopes is not { Length: > 0 })
            errors.Add(new("$.scopes", $"At least one scope is required: {string.Join(", ", Scopes.All)}."));
        else
            errors.AddRange(request.Scopes.Select((s, i) => (s, i)).Where(x => !Scopes.All.Contains(x.s))
                .Select(x => new FieldProblem($"$.scopes[{x.i}]", $"Unknown scope '{x.s}'.")));
        if (errors.Count > 0) return Problems.Validation(errors);

        var key = ApiKey.NewKey();
        var document = new ApiKey
        {
            Id = ApiKey.HashOf(key), KeyId = Enate.Domain.Platform.OrderedIds.Next(), TenantId = user.Tenant(), Name = request.Name!.Trim(),
            Scopes = request.Scopes!.Distinct().ToArray(), Prefix = ApiKey.Shown(key), CreatedAt = clock.GetUtcNow(),
        };
        await using var session = store.LightweightSession();
        session.Insert(document);
        await session.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/api-keys/{document.KeyId}",
            new ApiKeyCreated(document.KeyId, document.Name, document.Scopes, key));
    }

    /// The API keys of the caller's tenant: name, scopes, the key's first characters, when made and when revoked; never the key.
    [WolverineGet("/api/v1/api-keys", OperationId = "ListApiKeys")]
    [ProducesResponseType<Page<ApiKeyView>>(200)]
    [Answers("invalid-cursor")]
    [Tags("API keys")]
    [Authorize(Policy = Scopes.Admin)]
    public static async Task<IResult> List(int? limit, string? cursor, ClaimsPrincipal user, IDocumentStore store, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "key", out var position) is { } problem) return problem;
        if (position is not null && !Guid.TryParseExact(position, "D", out _)) return Paging.InvalidCursor;
        await using var session = store.QuerySession();
        var tenant = user.Tenant();
        var query = session.Query<ApiKey>().Where(k => k.TenantId == tenant);
        // Key ids are version 7 GUIDs: in the order the keys were made.
        if (position is not null) query = query.Where(k => k.MatchesSql("d.data ->> 'keyId' > ?", position));
        var take = limit ?? Paging.DefaultLimit;
        var keys = await query.OrderBy(k => k.KeyId).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(keys.Select(ApiKeyView.Of).ToList(), take, k => k.Id.ToString("D"), "key"));
    }

    /// Revokes a key of the caller's tenant. Another tenant's key is "not found".
    [WolverineDelete("/api/v1/api-keys/{id}", OperationId = "RevokeApiKey")]
    [ProducesResponseType(204)]
    [Tags("API keys")]
    [Authorize(Policy = Scopes.Admin)]
    public static async Task<IResult> Revoke(Guid id, ClaimsPrincipal user, IDocumentStore store, ApiKeyCache cache,
        TimeProvider clock, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var tenant = user.Tenant();
        var key = await session.Query<ApiKey>().SingleOrDefaultAsync(k => k.KeyId == id && k.TenantId == tenant, ct);
        if (key is null) return Problems.NotFound($"API key '{id}'");
        if (key.RevokedAt is null)
        {
            key.RevokedAt = clock.GetUtcNow();
            session.Store(key);
            await session.SaveChangesAsync(ct);
        }
        cache.Forget(key.Id);
        return Results.NoContent();
    }
}

public static class PrincipalExtensions
{
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(EnateClaims.Tenant) ?? throw new InvalidOperationException("No tenant on an authenticated principal.");

    /// Who asked, for the record: the key's name and id, never the key.
    public static string Who(this ClaimsPrincipal user) =>
        $"{user.FindFirstValue(ClaimTypes.Name)} ({user.FindFirstValue(EnateClaims.KeyId)})";
}
