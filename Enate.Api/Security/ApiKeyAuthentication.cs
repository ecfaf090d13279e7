using System.Security.Claims;
using System.Text.Encodings.Web;
using Enate.Api.Platform;
using Enate.Domain.Security;
using System.Threading.RateLimiting;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Enate.Api.Security;

public static class EnateClaims
{
    public const string Tenant = "enate:tenant";
    public const string Scope = "enate:scope";
    public const string KeyId = "enate:key";
}

/// `Authorization: Bearer &lt;api key&gt;`: one lookup by the key's hash (cached for a few seconds, so a
/// revocation reaches every API replica within that time), then the key's tenant and scopes become claims. The
/// platform operator's key (`Enate:Operator:ApiKey`) carries the operator scope and no tenant. A key of a disabled
/// tenant is refused with 403 `tenant-disabled`.
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache cache,
    OperatorKey operatorKey)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string TenantDisabled = "enate:tenant-disabled";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            return AuthenticateResult.Fail("The Authorization header is not a bearer API key.");

        var presented = header[7..].Trim();
        if (operatorKey.Matches(presented))
        {
            var operatorClaims = new ClaimsIdentity([
                new(ClaimTypes.Name, "platform operator"), new(EnateClaims.KeyId, "operator"), new(EnateClaims.Scope, Scopes.Operator)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(operatorClaims), SchemeName));
        }
        var known = await cache.FindAsync(presented, Context.Connection.RemoteIpAddress?.ToString(), Context.RequestAborted);
        if (known is null) return AuthenticateResult.Fail("Unknown or revoked API key.");
        if (known.TenantDisabled)
        {
            Context.Items[TenantDisabled] = known.Key.TenantId;
            return AuthenticateResult.Fail("The key's tenant is disabled.");
        }
        var key = known.Key;

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, key.Name),
            new(EnateClaims.Tenant, key.TenantId),
            new(EnateClaims.KeyId, key.KeyId.ToString()),
        };
        claims.AddRange(key.Scopes.Select(scope => new Claim(EnateClaims.Scope, scope)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.TryGetValue(TenantDisabled, out var tenant))
            return WriteProblem(StatusCodes.Status403Forbidden, "tenant-disabled", "Tenant disabled.",
                $"Tenant '{tenant}' is disabled; its keys are refused until the platform operator enables it.");
        Response.Headers.WWWAuthenticate = "Bearer";
        return WriteProblem(StatusCodes.Status401Unauthorized, "unauthenticated", "Authentication required.",
            "Send a valid API key as 'Authorization: Bearer <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "forbidden", "Forbidden.",
            "This API key does not have the scope this route requires.");

    private Task WriteProblem(int status, string kind, string title, string detail) =>
        Problems.Problem(status, kind, title, detail).ExecuteAsync(Context);
}

/// Keys by hash, kept briefly in memory: authentication must not cost a database round trip per request. A revoked
/// key stops working here at once, on another replica within 5 seconds. Keys not held in memory are looked up at most
/// `Enate:RateLimits:KeyLookupsPerAddressPerSecond` times a second per source address: guessing keys cannot load the
/// database, and a key that is in use is held after its first request.
public sealed class ApiKeyCache(IDocumentStore store, TimeProvider clock, IConfiguration configuration)
{
    private readonly FreshCache<string, KnownKey?> _keys = new(TimeSpan.FromSeconds(5), clock);
    private readonly PartitionedRateLimiter<string> _lookups = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = configuration.GetValue("Enate:RateLimits:KeyLookupsPerAddressPerSecond", 20) * 2,
            TokensPerPeriod = configuration.GetValue("Enate:RateLimits:KeyLookupsPerAddressPerSecond", 20),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public async Task<KnownKey?> FindAsync(string presented, string? address, CancellationToken ct)
    {
        if (presented.Length is < 16 or > 200) return null;
        var hashed = ApiKey.HashOf(presented);
        if (!_keys.Holds(hashed))
        {
            using var lookup = _lookups.AttemptAcquire(address ?? "");
            if (!lookup.IsAcquired) return null;
        }
        return await _keys.GetAsync(hashed, async hash =>
        {
            await using var session = store.QuerySession();
            var key = await session.LoadAsync<ApiKey>(hash);
            if (key is null || key.RevokedAt is not null) return null;
            var tenant = await session.LoadAsync<Tenant>(key.TenantId);
            return new KnownKey(key, tenant?.Disabled == true);
        }, ct);
    }

    public void Forget(string hash) => _keys.Forget(hash);
}

/// A key that exists and is not revoked, and whether its tenant is disabled.
public sealed record KnownKey(ApiKey Key, bool TenantDisabled);

/// The platform operator's key (`Enate:Operator:ApiKey`, at least 32 characters), compared in constant time; none
/// configured: no request is the operator's.
public sealed class OperatorKey
{
    private readonly byte[]? _hash;

    public OperatorKey(IConfiguration configuration)
    {
        var key = configuration["Enate:Operator:ApiKey"];
        if (string.IsNullOrWhiteSpace(key)) return;
        if (key.Length < 32) throw new InvalidOperationException("Enate:Operator:ApiKey must be at least 32 characters.");
        _hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));
    }

    public bool Matches(string presented) => _hash is not null &&
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            _hash, System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(presented)));
}
