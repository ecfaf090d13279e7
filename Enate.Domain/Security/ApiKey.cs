using System.Security.Cryptography;
using System.Text;

namespace Enate.Domain.Security;

/// The scopes a key can hold. `admin` holds every other scope as well.
public static class Scopes
{
    public const string RecipesWrite = "recipes:write";
    public const string RunsTrigger = "runs:trigger";
    public const string RunsRead = "runs:read";
    public const string AuditRead = "audit:read";
    public const string ReplayWrite = "replay:write";
    public const string Admin = "admin";

    public static readonly string[] All = [RecipesWrite, RunsTrigger, RunsRead, AuditRead, ReplayWrite, Admin];

    /// The platform operator's, held by no tenant's key: it manages tenants and nothing inside them.
    public const string Operator = "platform:operator";
}

/// An API key as stored: only the SHA-256 of the key, never the key. The document id is that hash, so
/// authenticating a request is one primary-key lookup. Keys are 256-bit random values: a fast hash is
/// enough, as there is nothing to guess from it (unlike a password).
public sealed class ApiKey
{
    public string Id { get; set; } = "";
    public Guid KeyId { get; set; }
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string[] Scopes { get; set; } = [];
    public string Prefix { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public const string KeyPrefix = "enk_";

    public static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// The first characters of a key the platform made (`enk_` and 8 of its 43 random characters), enough for a person
    /// to tell keys apart in a list and far too few to use. Nothing of a key a person chose (the bootstrap key, 16
    /// characters at least): any of its characters shown would be a real share of it, kept beside its hash.
    public static string Shown(string key) => key.StartsWith(KeyPrefix, StringComparison.Ordinal) && key.Length == NewKeyLength ? key[..12] + "…" : "";

    /// `enk_` and 32 random bytes in unpadded base64url.
    private const int NewKeyLength = 4 + 43;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
