using System.Security.Claims;
using Enate.Api.Platform;
using Enate.Api.Security;
using Enate.Domain.Security;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace Enate.Api.Tenants;

public sealed record TenantRequest(string? Id, string? Name);

public sealed record TenantView(string Id, string Name, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? DisabledAt)
{
    public static TenantView Of(Tenant t) => new(t.Id, t.Name, t.CreatedAt, t.CreatedBy, t.DisabledAt);
}

/// A new tenant and the key of its first administrator, shown in this answer only.
public sealed record TenantCreated(TenantView Tenant, ApiKeyCreated AdminKey);

/// The platform operator's routes: tenants are created, listed, disabled and enabled here, with the operator's key
/// (`Enate:Operator:ApiKey`), which holds no tenant and can do nothing inside one.
public static class TenantEndpoints
{
    /// Creates a tenant and its first admin key, which the answer shows once: the tenant's administrator makes every
    /// other key with it.
    [WolverinePost("/api/v1/tenants", OperationId = "CreateTenant")]
    [ProducesResponseType<TenantCreated>(201)]
    [Authorize(Policy = Scopes.Operator)]
    [Tags("Tenants")]
    [Answers("tenant-exists")]
    public static async Task<IResult> Create(TenantRequest request, ClaimsPrincipal user, IDocumentStore store, TimeProvider clock,
        CancellationToken ct)
    {
        var errors = new List<FieldProblem>();
        if (!Names.IsValid(request.Id) || request.Id!.StartsWith('_')) errors.Add(new("$.id", Names.Rule));
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200) errors.Add(new("$.name", "A name of 1 to 200 characters is required."));
        if (errors.Count > 0) return Problems.Validation(errors);

        await using var session = store.LightweightSession();
        // A tenant that has keys but no record (made before tenants had one) exists all the same.
        if (await session.LoadAsync<Tenant>(request.Id!, ct) is not null ||
            await session.Query<ApiKey>().AnyAsync(k => k.TenantId == request.Id, ct))
            return Problems.Conflict("tenant-exists", $"Tenant '{request.Id}' exists.");

        var now = clock.GetUtcNow();
        var tenant = new Tenant { Id = request.Id!, Name = request.Name!.Trim(), CreatedAt = now, CreatedBy = user.Who() };
        var key = ApiKey.NewKey();
        var admin = new ApiKey
        {
            Id = ApiKey.HashOf(key), KeyId = Guid.CreateVersion7(), TenantId = tenant.Id, Name = "admin", Scopes = [Scopes.Admin],
            Prefix = ApiKey.Shown(key), CreatedAt = now,
        };
        session.Insert(tenant);
        session.Insert(admin);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return Problems.Conflict("tenant-exists", $"Tenant '{request.Id}' exists.");
        }
        return Results.Created($"/api/v1/tenants/{tenant.Id}",
            new TenantCreated(TenantView.Of(tenant), new ApiKeyCreated(admin.KeyId, admin.Name, admin.Scopes, key)));
    }

    /// Tenants by id, paged with `limit` and `cursor`.
    [WolverineGet("/api/v1/tenants", OperationId = "ListTenants")]
    [ProducesResponseType<Page<TenantView>>(200)]
    [Authorize(Policy = Scopes.Operator)]
    [Tags("Tenants")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> List(int? limit, string? cursor, IDocumentStore store, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "tenant", out var after) is { } problem) return problem;
        await using var session = store.QuerySession();
        var query = session.Query<Tenant>().AsQueryable();
        if (after is not null) query = query.Where(t => t.Id.CompareTo(after) > 0);
        var take = limit ?? Paging.DefaultLimit;
        var tenants = await query.OrderBy(t => t.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(tenants.Select(TenantView.Of).ToList(), take, t => t.Id, "tenant"));
    }

    /// One tenant.
    [WolverineGet("/api/v1/tenants/{id}", OperationId = "GetTenant")]
    [ProducesResponseType<TenantView>(200)]
    [Authorize(Policy = Scopes.Operator)]
    [Tags("Tenants")]
    public static async Task<IResult> Get(string id, IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<Tenant>(id, ct) is { } tenant ? Results.Ok(TenantView.Of(tenant)) : Problems.NotFound($"Tenant '{id}'");
    }

    /// Disables a tenant: its keys are answered 403 `tenant-disabled` and its hooks and subscriptions refuse deliveries
    /// (recorded as refused), on every API replica within seconds. Runs already accepted finish; nothing is deleted.
    [WolverinePost("/api/v1/tenants/{id}/disable", OperationId = "DisableTenant")]
    [ProducesResponseType<TenantView>(200)]
    [Authorize(Policy = Scopes.Operator)]
    [Tags("Tenants")]
    public static Task<IResult> Disable(string id, IDocumentStore store, TenantStatus status, ApiKeyCache keys, TimeProvider clock,
        CancellationToken ct) => SetAsync(id, clock.GetUtcNow(), store, status, keys, ct);

    /// Enables a disabled tenant again.
    [WolverinePost("/api/v1/tenants/{id}/enable", OperationId = "EnableTenant")]
    [ProducesResponseType<TenantView>(200)]
    [Authorize(Policy = Scopes.Operator)]
    [Tags("Tenants")]
    public static Task<IResult> Enable(string id, IDocumentStore store, TenantStatus status, ApiKeyCache keys, CancellationToken ct) =>
        SetAsync(id, null, store, status, keys, ct);

    private static async Task<IResult> SetAsync(string id, DateTimeOffset? disabledAt, IDocumentStore store, TenantStatus status,
        ApiKeyCache keys, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<Tenant>(id, ct) is not { } tenant) return Problems.NotFound($"Tenant '{id}'");
        tenant.DisabledAt = disabledAt is null ? null : tenant.DisabledAt ?? disabledAt;
        session.Store(tenant);
        await session.SaveChangesAsync(ct);
        // This replica knows at once; the others when their few seconds of caching run out.
        status.Forget(id);
        foreach (var hash in await session.Query<ApiKey>().Where(k => k.TenantId == id).Select(k => k.Id).ToListAsync(ct)) keys.Forget(hash);
        return Results.Ok(TenantView.Of(tenant));
    }
}

/// Whether a tenant is disabled, kept a few seconds in memory: deliveries to a tenant's hooks must not cost an extra
/// database round trip each.
public sealed class TenantStatus(IDocumentStore store, TimeProvider clock)
{
    private readonly FreshCache<string, bool> _disabled = new(TimeSpan.FromSeconds(5), clock);

    public ValueTask<bool> IsDisabledAsync(string tenant, CancellationToken ct) => _disabled.GetAsync(tenant, async id =>
    {
        await using var session = store.QuerySession();
        return (await session.LoadAsync<Tenant>(id, ct))?.Disabled == true;
    }, ct);

    public void Forget(string tenant) => _disabled.Forget(tenant);

    /// A delivery to a disabled tenant's hook or subscription: recorded as refused, and answered 403; null when the
    /// tenant is enabled.
    public async Task<IResult?> RefusalAsync(string tenant, Triggers.InboundCopy copy, Triggers.InboundRequests inbound, CancellationToken ct)
    {
        if (!await IsDisabledAsync(tenant, ct)) return null;
        await inbound.RejectAsync(tenant, copy, StatusCodes.Status403Forbidden, "The tenant is disabled.", ct);
        return Problems.Problem(StatusCodes.Status403Forbidden, "tenant-disabled", "Tenant disabled.",
            $"Tenant '{tenant}' is disabled; its keys and deliveries are refused until the platform operator enables it.");
    }
}
