using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Enate.Domain.Runs;

/// How requests and responses are written into events: secrets redacted, large bodies reduced to size and hash.
public static partial class Recording
{
    public const int DefaultMaxBodyBytes = 64 * 1024;
    public const string Redacted = "***";

    public static RecordedBody Body(byte[] bytes, string? contentType, int maxBytes = DefaultMaxBodyBytes)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var text = bytes.Length <= maxBytes ? Encoding.UTF8.GetString(bytes) : null;
        // PostgreSQL's jsonb cannot hold U+0000: such a body is kept as size and hash only, like a large one.
        if (text is not null && text.Contains('\0')) text = null;
        return new RecordedBody(contentType, bytes.Length, sha, text, text is null);
    }

    public static RecordedBody Body(string? text, string? contentType, int maxBytes = DefaultMaxBodyBytes) =>
        Body(text is null ? [] : Encoding.UTF8.GetBytes(text), contentType, maxBytes);

    /// A refused request's body: its size and SHA-256, and its first bytes only (as text, a character cut at the end
    /// shown as U+FFFD), so refusing a large body costs little to record.
    public static RecordedBody Prefix(byte[] bytes, string? contentType, int prefixBytes)
    {
        if (bytes.Length <= prefixBytes) return Body(bytes, contentType, prefixBytes);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var text = Encoding.UTF8.GetString(bytes, 0, prefixBytes).Replace('\0', '\uFFFD');
        return new RecordedBody(contentType, bytes.Length, sha, text, Truncated: true);
    }

    /// Copies headers, replacing the value of any that carries a credential.
    public static Dictionary<string, string> Headers(IEnumerable<KeyValuePair<string, string>> headers, params string?[] alsoSecret)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            var secret = IsSecretHeader(name) || alsoSecret.Any(s => s is not null && string.Equals(s, name, StringComparison.OrdinalIgnoreCase));
            result[name] = secret ? Redacted : value;
        }
        return result;
    }

    /// A partner's response headers: those that carry a credential by name (the connection's own API-key header
    /// among them), and any whose value holds one of the connection's secrets, as a partner that echoes what it was
    /// sent would return it.
    public static Dictionary<string, string> ResponseHeaders(IEnumerable<KeyValuePair<string, string>> headers, string? secretHeader,
        IEnumerable<string?> secretValues)
    {
        var result = Headers(headers, secretHeader);
        var values = secretValues.OfType<string>().Where(v => v.Length > 0).ToList();
        if (values.Count == 0) return result;
        foreach (var (name, value) in result.ToList())
            if (values.Any(secret => value.Contains(secret, StringComparison.Ordinal))) result[name] = Redacted;
        return result;
    }

    public static bool IsSecretHeader(string name) => SecretHeader().IsMatch(name);

    [GeneratedRegex(@"^(authorization|proxy-authorization|cookie|set-cookie)$|api[-_]?key|secret|token|signature|password|credential",
        RegexOptions.IgnoreCase)]
    private static partial Regex SecretHeader();
}
