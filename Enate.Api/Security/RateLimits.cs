using System.Globalization;
using System.Threading.RateLimiting;
using Enate.Api.Platform;
using Microsoft.AspNetCore.RateLimiting;

namespace Enate.Api.Security;

/// Token buckets, so that no caller can starve the others (`Enate:RateLimits`, per second; a bucket holds twice that):
/// - a request with an API key spends from its key's bucket and from its tenant's, so many keys buy a tenant no more;
/// - a webhook delivery spends from its hook's (or subscription's) bucket, keyed by the route and the id as a GUID, so
///   other spellings of one id share it, and from its source address's budget for all anonymous routes;
/// - other anonymous calls to the API spend from their address's bucket.
/// Over a limit: 429 problem+json with Retry-After.
public static class RateLimits
{
    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Enate:RateLimits");
        var perKey = section.GetValue("PerKeyPerSecond", 200);
        var perTenant = section.GetValue("PerTenantPerSecond", 1000);
        var perHook = section.GetValue("PerWebhookPerSecond", 500);
        var perAnonymousAddress = section.GetValue("AnonymousPerAddressPerSecond", 1000);
        var perAddress = section.GetValue("UnauthenticatedPerSecond", 50);

        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                {
                    var path = context.Request.Path;
                    if (IsDelivery(path)) return Bucket("hook:" + Target(context), perHook);
                    if (context.User.FindFirst(EnateClaims.KeyId)?.Value is { } key) return Bucket("key:" + key, perKey);
                    if (!path.StartsWithSegments("/api")) return RateLimitPartition.GetNoLimiter("infrastructure");
                    return Bucket("address:" + context.Connection.RemoteIpAddress, perAddress);
                }),
                PartitionedRateLimiter.Create<HttpContext, string>(context =>
                {
                    if (IsDelivery(context.Request.Path)) return Bucket("anonymous:" + context.Connection.RemoteIpAddress, perAnonymousAddress);
                    if (context.User.FindFirst(EnateClaims.Tenant)?.Value is { } tenant) return Bucket("tenant:" + tenant, perTenant);
                    return RateLimitPartition.GetNoLimiter("none");
                }));
            options.OnRejected = async (context, ct) =>
            {
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Problems.Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests.",
                    $"This client is over its rate limit; retry in {seconds} s.").ExecuteAsync(context.HttpContext);
            };
        });
        return builder;
    }

    private static bool IsDelivery(PathString path) => path.StartsWithSegments("/api/v1/hooks") || path.StartsWithSegments("/api/v1/enate/webhooks");

    /// The route template and the id it addresses, as one key: "/api/v1/hooks/{hookId}:&lt;guid&gt;". Every spelling of an id
    /// that is not a GUID shares one bucket per route.
    private static string Target(HttpContext context)
    {
        var template = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
        var id = context.Request.RouteValues.Values.FirstOrDefault()?.ToString();
        return $"{template}:{(Guid.TryParse(id, out var guid) ? guid.ToString("D") : "(not an id)")}";
    }

    private static RateLimitPartition<string> Bucket(string key, int perSecond) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond * 2,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
