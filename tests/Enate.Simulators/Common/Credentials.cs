using System.Security.Cryptography;
using System.Text;

namespace Enate.Simulators.Common;

/// The fixed credentials of the third-party simulators, checked by an endpoint filter on each app's group.
public static class Credentials
{
    public static RouteGroupBuilder RequireBearer(this RouteGroupBuilder group, string token) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !SameSecret(header["Bearer ".Length..].Trim(), token))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                return Problems.Unauthorized("A valid bearer token is required.");
            }
            return await next(context);
        });

    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group, string key) =>
        group.AddEndpointFilter(async (context, next) =>
            SameSecret(context.HttpContext.Request.Headers["X-Api-Key"].ToString(), key)
                ? await next(context)
                : Problems.Unauthorized("A valid X-Api-Key header is required."));

    public static RouteGroupBuilder RequireBasic(this RouteGroupBuilder group, string user, string password) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
            if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) || !SameSecret(header["Basic ".Length..].Trim(), expected))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"erp\"";
                return Problems.Unauthorized("Basic authentication with a valid user and password is required.");
            }
            return await next(context);
        });

    public static bool SameSecret(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
}
