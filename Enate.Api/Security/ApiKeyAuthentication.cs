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
/// revocation reaches every API replica within that time), then the key's tenant and scopes become claims.
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyCache cache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            return AuthenticateResult.Fail("The Authorization header is not a bearer API key.");

        var key = await cache.FindAsync(header[7..].Trim(), Context.Connection.RemoteIpAddress?.ToString(), Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("Unknown or revoked API key.");

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
    private readonly FreshCache<string, ApiKey?> _keys = new(TimeSpan.FromSeconds(5), clock);
    private readonly PartitionedRateLimiter<string> _lookups = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = configuration.GetValue("Enate:RateLimits:KeyLookupsPerAddressPerSecond", 20) * 2,
            TokensPerPeriod = configuration.GetValue("Enate:RateLimits:KeyLookupsPerAddressPerSecond", 20),
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public async Task<ApiKey?> FindAsync(string presented, string? address, CancellationToken ct)
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
            return key?.RevokedAt is null ? key : null;
        }, ct);
    }

    public void Forget(string hash) => _keys.Forget(hash);
}
