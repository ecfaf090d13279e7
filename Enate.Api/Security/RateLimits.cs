using System.Globalization;
using System.Threading.RateLimiting;
using Enate.Api.Platform;
using Microsoft.AspNetCore.RateLimiting;

namespace Enate.Api.Security;

/// Token buckets per API key and per webhook endpoint, so one noisy client or partner cannot starve the
/// others. Over the limit: 429 problem+json with Retry-After. Limits in `Enate:RateLimits` (per second, and
/// the burst a bucket holds).
public static class RateLimits
{
    public static WebApplicationBuilder AddRateLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Enate:RateLimits");
        var perKey = section.GetValue("PerKeyPerSecond", 200);
        var perHook = section.GetValue("PerWebhookPerSecond", 500);
        var perAddress = section.GetValue("UnauthenticatedPerSecond", 50);

        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var path = context.Request.Path;
                if (path.StartsWithSegments("/api/v1/hooks") || path.StartsWithSegments("/api/v1/enate/webhooks"))
                    return Bucket("hook:" + path.Value, perHook);
                if (context.User.FindFirst(EnateClaims.KeyId)?.Value is { } key) return Bucket("key:" + key, perKey);
                if (!path.StartsWithSegments("/api")) return RateLimitPartition.GetNoLimiter("infrastructure");
                return Bucket("address:" + context.Connection.RemoteIpAddress, perAddress);
            });
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
