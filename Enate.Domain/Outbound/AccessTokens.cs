using System.Collections.Concurrent;
using System.Text.Json;
using Enate.Domain.Connections;
using Enate.Domain.Engine;

namespace Enate.Domain.Outbound;

/// The token endpoint did not give a token. Transient when it may well give one later (5xx, 408, 429, no answer);
/// otherwise it refused the credentials or answered what is not a token, which retrying does not change.
public sealed class TokenRequestException(string message, bool transient) : Exception(message)
{
    public bool Transient { get; } = transient;
}

/// OAuth2 client-credentials tokens, cached per connection until shortly before they expire. The client secret goes
/// to the connection's tokenUrl and nowhere else.
public sealed class AccessTokens(IHttpClientFactory clients, TimeProvider clock, Limits limits)
{
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> _cache = new();

    public async Task<string> GetAsync(ConnectionAuth auth, bool refresh, CancellationToken ct)
    {
        // Keyed by the credentials themselves (hashed): two tenants' connections of one name never share a
        // token, and identical credentials would get the same token from the provider anyway.
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"{auth.TokenUrl}\n{auth.ClientId}\n{auth.ClientSecret}\n{auth.Scope}")));
        if (!refresh && _cache.TryGetValue(key, out var cached) && cached.ExpiresAt > clock.GetUtcNow()) return cached.Token;

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = auth.ClientId!,
            ["client_secret"] = auth.ClientSecret!,
        };
        if (!string.IsNullOrWhiteSpace(auth.Scope)) form["scope"] = auth.Scope;

        using var response = await clients.CreateClient(OutboundCaller.ClientName)
            .PostAsync(auth.TokenUrl, new FormUrlEncodedContent(form), ct);
        var status = (int)response.StatusCode;
        if (!response.IsSuccessStatusCode)
        {
            // Never include the response body: a token endpoint may echo credentials.
            throw new TokenRequestException($"The token endpoint answered {status}.", status is >= 500 or 408 or 429);
        }
        var bytes = await OutboundCaller.ReadLimitedAsync(response.Content, limits.MaxTokenResponseBytes, "token endpoint's answer", ct);
        string? token;
        int lifetime;
        try
        {
            using var json = JsonDocument.Parse(bytes);
            token = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("access_token", out var t) &&
                    t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            lifetime = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("expires_in", out var expires) &&
                       expires.TryGetInt32(out var seconds) && seconds > 0 ? seconds : 300;
        }
        catch (JsonException)
        {
            throw new TokenRequestException($"The token endpoint answered {status} with a body that is not JSON.", transient: false);
        }
        if (string.IsNullOrEmpty(token)) throw new TokenRequestException("The token endpoint's answer holds no access_token.", transient: false);
        // Renew a little early so a token never expires in flight.
        _cache[key] = (token, clock.GetUtcNow().AddSeconds(Math.Max(lifetime - 30, lifetime / 2)));
        return token;
    }
}
