using System.Security.Cryptography;
using System.Text;

namespace Enate.Api.Tests.Triggers;

/// Signs as a partner would, written from the Standard Webhooks spec (not with the package the API uses),
/// so the test checks the API against the spec rather than against itself.
public static class StandardWebhookSigner
{
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }
}
