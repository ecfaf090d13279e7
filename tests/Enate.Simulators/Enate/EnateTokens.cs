using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// Enate's Application Credentials: an OAuth2 client-credentials exchange for a bearer token.
/// Issued tokens survive a reset of the app, so that a platform's cached token stays valid between tests.
public sealed class EnateTokens(IConfiguration configuration, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _issued = new();

    public string ClientId => configuration["Simulators:Enate:ClientId"] ?? "enate-platform";
    public string ClientSecret => configuration["Simulators:Enate:ClientSecret"] ?? "sim-enate-secret";
    public int LifetimeSeconds => configuration.GetValue("Simulators:Enate:TokenLifetimeSeconds", 3600);

    public string Issue()
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _issued[token] = clock.GetUtcNow().AddSeconds(LifetimeSeconds);
        return token;
    }

    public bool IsValid(string? token) =>
        token is not null && _issued.TryGetValue(token, out var expires) && expires > clock.GetUtcNow();

    public static void Map(IEndpointRouteBuilder enate)
    {
        enate.MapPost("/oauth2/token", async (HttpRequest request, EnateTokens tokens) =>
        {
            if (!request.HasFormContentType) return OAuthError("invalid_request", "Send application/x-www-form-urlencoded.");
            var form = await request.ReadFormAsync();
            var (clientId, clientSecret) = (form["client_id"].ToString(), form["client_secret"].ToString());
            // client_secret_basic is allowed too.
            var header = request.Headers.Authorization.ToString();
            if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim())).Split(':', 2);
                    if (pair.Length == 2) (clientId, clientSecret) = (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair[1]));
                }
                catch (FormatException)
                {
                    return OAuthError("invalid_client", "Malformed Basic credentials.", StatusCodes.Status401Unauthorized);
                }
            }
            if (form["grant_type"] != "client_credentials") return OAuthError("unsupported_grant_type", "Only client_credentials is supported.");
            if (clientId != tokens.ClientId || !Credentials.SameSecret(clientSecret, tokens.ClientSecret))
            {
                return OAuthError("invalid_client", "Unknown client or wrong secret.", StatusCodes.Status401Unauthorized);
            }
            return Results.Json(new Dictionary<string, object>
            {
                ["access_token"] = tokens.Issue(),
                ["token_type"] = "Bearer",
                ["expires_in"] = tokens.LifetimeSeconds,
            });
        }).DisableAntiforgery();
    }

    public RouteGroupBuilder Require(RouteGroupBuilder api) => api.AddEndpointFilter(async (context, next) =>
    {
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
        if (IsValid(token)) return await next(context);
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.Unauthorized("A bearer token from /enate/oauth2/token is required (missing, unknown or expired).");
    });

    private static IResult OAuthError(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        Results.Json(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
