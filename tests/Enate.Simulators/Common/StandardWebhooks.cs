using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Enate.Simulators.Common;

/// A receiver registered with POST /_sim/{app}/webhook-endpoints. The secret is kept decoded and never shown.
public sealed record WebhookEndpoint(string Id, string Url, byte[] Key, DateTimeOffset CreatedAt);

public sealed class WebhookEndpoints
{
    private readonly ConcurrentDictionary<string, WebhookEndpoint> _endpoints = new();

    public void Add(WebhookEndpoint endpoint) => _endpoints[endpoint.Id] = endpoint;
    public bool Remove(string id) => _endpoints.TryRemove(id, out _);
    public IReadOnlyList<WebhookEndpoint> All() => [.. _endpoints.Values.OrderBy(e => e.CreatedAt)];
    public void Clear() => _endpoints.Clear();
}

/// Per-event options a _sim trigger body may carry.
public interface IEventOptions
{
    int? Duplicates { get; }
    bool? BadSignature { get; }
}

/// Sends events the way Standard Webhooks (standardwebhooks.com) specifies: headers webhook-id, webhook-timestamp
/// and webhook-signature = "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>" keyed with the decoded secret.
public sealed class StandardWebhooks(WebhookSender sender, TimeProvider clock)
{
    public const string SecretPrefix = "whsec_";
    /// On a _sim trigger's answer: the webhook-id of the message it sent.
    public const string MessageIdHeader = "X-Sim-Webhook-Id";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static byte[]? DecodeSecret(string? secret)
    {
        if (secret is null || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal)) return null;
        try
        {
            var key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
            return key.Length == 0 ? null : key;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static string Sign(byte[] key, string id, long timestamp, string body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));

    /// Sends `{"type", "timestamp", "data"}` to every registered endpoint; returns the message id.
    public string Publish(SimulatedApp app, string type, object data, IEventOptions? options = null)
    {
        var now = clock.GetUtcNow();
        var messageId = $"msg_{Guid.NewGuid():N}";
        var timestamp = now.ToUnixTimeSeconds();
        var body = JsonSerializer.Serialize(new { type, timestamp = now, data }, Json);
        var copies = 1 + Math.Clamp(options?.Duplicates ?? 0, 0, 100);
        var badSignature = options?.BadSignature ?? false;

        foreach (var endpoint in app.WebhookEndpoints.All())
        {
            var key = badSignature ? RandomNumberGenerator.GetBytes(32) : endpoint.Key;
            var headers = new Dictionary<string, string>
            {
                ["webhook-id"] = messageId,
                ["webhook-timestamp"] = timestamp.ToString(CultureInfo.InvariantCulture),
                ["webhook-signature"] = Sign(key, messageId, timestamp, body),
            };
            for (var copy = 0; copy < copies; copy++)
            {
                sender.Send(app, new WebhookDelivery
                {
                    Id = Guid.NewGuid().ToString("N"),
                    At = now,
                    Event = type,
                    Url = endpoint.Url,
                    Body = body,
                    MessageId = messageId,
                    Target = endpoint.Id,
                    Copy = copy,
                    BadSignature = badSignature,
                }, headers);
            }
        }
        return messageId;
    }
}
