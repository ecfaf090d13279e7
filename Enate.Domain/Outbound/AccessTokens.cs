using System.Collections.Concurrent;
using System.Text.Json;
using Enate.Domain.Connections;

namespace Enate.Domain.Outbound;

public sealed class TokenRequestException(string message) : Exception(message);

/// OAuth2 client-credentials tokens, cached per connection until shortly before they expire.
public sealed class AccessTokens(IHttpClientFactory clients, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset ExpiresAt)> _cache = new();

    public async Task<string> GetAsync(Connection connection, ConnectionAuth auth, bool refresh, CancellationToken ct)
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
        if (!response.IsSuccessStatusCode)
        {
            // Never include the response body: a token endpoint may echo credentials.
            throw new TokenRequestException($"The token endpoint answered {(int)response.StatusCode}.");
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var token = json.RootElement.GetProperty("access_token").GetString()
            ?? throw new TokenRequestException("The token endpoint returned no access_token.");
        var lifetime = json.RootElement.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds) ? seconds : 300;
        // Renew a little early so a token never expires in flight.
        _cache[key] = (token, clock.GetUtcNow().AddSeconds(Math.Max(lifetime - 30, lifetime / 2)));
        return token;
    }
}
