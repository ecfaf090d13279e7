using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using NSec.Cryptography;

namespace Enate.Domain.Audit;

/// A signed statement of where one tenant's hash chain stood: its head (`seq`, `headHash`) at `time`. Checkpoints of a
/// tenant are numbered from 1 and each names the previous one's hash, so one removed from a sequence shows. The
/// signature is Ed25519 over the UTF-8 of `Canonical`:
///
///     enate-audit-checkpoint/v1 \n tenant \n number \n seq \n headHash \n time \n previous
///
/// with `time` as ISO 8601 UTC with six fraction digits and `previous` the hex SHA-256 of the previous checkpoint's
/// canonical text (64 zeros for the first). docs/audit.md is the reference for verifiers.
public sealed record Checkpoint(string Tenant, long Number, long Seq, string HeadHash, string Time, string Previous, string KeyId,
    string Signature)
{
    public const string Version = "enate-audit-checkpoint/v1";
    public static readonly string First = new('0', 64);

    [JsonIgnore]
    public string Canonical => $"{Version}\n{Tenant}\n{Number}\n{Seq}\n{HeadHash}\n{Time}\n{Previous}";

    /// The hex SHA-256 of the canonical text: what the next checkpoint names as its previous one.
    [JsonIgnore]
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical)));
}

/// A public key checkpoints are verified with: `keyId` is the first 16 hex digits of the SHA-256 of the raw key.
public sealed record AuditKey(string KeyId, string Algorithm, string PublicKey, bool Current);

/// The platform's checkpoint signing key, which is never in the database: configuration `Enate:Audit:SigningKey` (a
/// secret text of at least 32 characters: an AppHost parameter in development, an environment secret in production)
/// or `Enate:Audit:SigningKeyFile` (a file holding it), from which the Ed25519 key is derived (its seed is the text's
/// SHA-256). Keys retired by a rotation stay verifiable: `Enate:Audit:RetiredPublicKeys` lists their public keys
/// (base64). A key kept in a KMS signs through the same two calls (`KeyId`, `Sign`).
public sealed class AuditSigner : IDisposable
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;
    private readonly Key _key;

    private AuditSigner(Key key, IReadOnlyList<AuditKey> retired)
    {
        _key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        KeyId = KeyIdOf(PublicKey);
        Keys = [new AuditKey(KeyId, "Ed25519", Convert.ToBase64String(PublicKey), true), .. retired];
    }

    public string KeyId { get; }
    public byte[] PublicKey { get; }
    /// The current key and the retired ones: every key a checkpoint may be signed with.
    public IReadOnlyList<AuditKey> Keys { get; }

    /// The signer the configuration names, or null when none is configured (checkpoints are then not made).
    public static AuditSigner? From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Enate:Audit");
        var secret = section["SigningKey"] is { Length: > 0 } text ? text
            : section["SigningKeyFile"] is { Length: > 0 } file ? File.ReadAllText(file).Trim()
            : null;
        if (secret is null) return null;
        if (secret.Length < 32) throw new InvalidOperationException("Enate:Audit:SigningKey must be a secret of at least 32 characters.");
        var retired = (section.GetSection("RetiredPublicKeys").Get<string[]>() ?? [])
            .Select(k => new AuditKey(KeyIdOf(Convert.FromBase64String(k)), "Ed25519", k, false)).ToList();
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        return new AuditSigner(Key.Import(Ed25519, seed, KeyBlobFormat.RawPrivateKey), retired);
    }

    public string Sign(string canonical) => Convert.ToBase64String(Ed25519.Sign(_key, Encoding.UTF8.GetBytes(canonical)));

    /// Whether one of these keys signed this checkpoint.
    public static bool Verifies(IEnumerable<AuditKey> keys, Checkpoint checkpoint)
    {
        var key = keys.FirstOrDefault(k => k.KeyId == checkpoint.KeyId);
        if (key is null) return false;
        try
        {
            var publicKey = NSec.Cryptography.PublicKey.Import(Ed25519, Convert.FromBase64String(key.PublicKey), KeyBlobFormat.RawPublicKey);
            return Ed25519.Verify(publicKey, Encoding.UTF8.GetBytes(checkpoint.Canonical), Convert.FromBase64String(checkpoint.Signature));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static string KeyIdOf(byte[] publicKey) => Convert.ToHexStringLower(SHA256.HashData(publicKey))[..16];

    public void Dispose() => _key.Dispose();
}
