using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;

namespace Enate.Domain.Platform;

/// Seals the Data Protection key ring at rest, so that whoever reads the database holds connection secrets and the
/// keys that encrypt them, but cannot decrypt either. The key encryption key is never in the database:
/// configuration `Enate:DataProtection:KeyEncryptionKey` (a secret text of at least 32 characters: an AppHost
/// parameter in development, an environment secret in production) or `Enate:DataProtection:KeyEncryptionKeyFile`.
/// Each ring entry is sealed with AES-256-GCM under a key derived from that text (HKDF-SHA256), bound to the entry's
/// id, and names the key it was sealed with (`SealedWith`, the first 16 hex digits of the SHA-256 of the derived key).
/// Keys of a rotation go in `Enate:DataProtection:PreviousKeyEncryptionKeys`: their entries still open, and every
/// process seals them again under the current key when it starts (docs/security.md).
public sealed class KeyRingSeal
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] Purpose = Encoding.UTF8.GetBytes("enate data protection key ring");
    private readonly byte[] _key;
    private readonly Dictionary<string, byte[]> _keys;

    private KeyRingSeal(string secret, IEnumerable<string> previous)
    {
        _key = Derive(secret);
        Id = IdOf(_key);
        _keys = previous.Select(Derive).Append(_key).ToDictionary(IdOf);
    }

    /// The current key's id: what `SealedWith` says of an entry sealed now.
    public string Id { get; }

    /// The seal the configuration names, or null when none is configured (the ring is then stored as it is).
    public static KeyRingSeal? From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Enate:DataProtection");
        var secret = section["KeyEncryptionKey"] is { Length: > 0 } text ? text
            : section["KeyEncryptionKeyFile"] is { Length: > 0 } file ? File.ReadAllText(file).Trim()
            : null;
        if (secret is null) return null;
        var previous = section.GetSection("PreviousKeyEncryptionKeys").Get<string[]>() ?? [];
        if (previous.Prepend(secret).Any(s => s.Length < 32))
            throw new InvalidOperationException("Enate:DataProtection:KeyEncryptionKey and its previous keys must be secrets of at least 32 characters.");
        return new KeyRingSeal(secret, previous);
    }

    /// A ring entry whose XML is sealed under the current key.
    public DataProtectionKey Seal(string id, string xml)
    {
        var plain = Encoding.UTF8.GetBytes(xml);
        var sealedBytes = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes, plain.Length), sealedBytes.AsSpan(NonceBytes + plain.Length), Encoding.UTF8.GetBytes(id));
        return new DataProtectionKey { Id = id, Sealed = Convert.ToBase64String(sealedBytes), SealedWith = Id };
    }

    /// The XML of a sealed entry. An entry sealed with a key this process does not have, or altered, is an error:
    /// the secrets it protects cannot be read, and that must stop the process, not pass as an empty ring.
    public string Open(DataProtectionKey entry)
    {
        if (entry.Sealed is null) return entry.Xml;
        if (entry.SealedWith is not { } sealedWith || !_keys.TryGetValue(sealedWith, out var key))
            throw new InvalidOperationException(
                $"Data Protection key {entry.Id} is sealed with key encryption key {entry.SealedWith}, which is not configured: " +
                "set Enate:DataProtection:KeyEncryptionKey (or list it in Enate:DataProtection:PreviousKeyEncryptionKeys).");
        var sealedBytes = Convert.FromBase64String(entry.Sealed);
        if (sealedBytes.Length < NonceBytes + TagBytes) throw Altered(entry);
        var length = sealedBytes.Length - NonceBytes - TagBytes;
        var plain = new byte[length];
        using var aes = new AesGcm(key, TagBytes);
        try
        {
            aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, length), sealedBytes.AsSpan(NonceBytes + length),
                plain, Encoding.UTF8.GetBytes(entry.Id));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Altered(entry);
        }
        return Encoding.UTF8.GetString(plain);
    }

    /// Whether an entry is not sealed under the current key: stored in the clear, or under a previous key.
    public bool Outdated(DataProtectionKey entry) => entry.Sealed is null || entry.SealedWith != Id;

    private static InvalidOperationException Altered(DataProtectionKey entry) =>
        new($"Data Protection key {entry.Id} does not open with its key encryption key: the stored entry was altered.");

    private static byte[] Derive(string secret) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: null, info: Purpose);

    private static string IdOf(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..16];
}
