using Enate.Domain.Platform;
using Microsoft.Extensions.Configuration;

namespace Enate.Domain.Tests.Platform;

/// The Data Protection key ring's entries are sealed at rest under a key that is not in the database: they open with
/// that key or one it replaced, and with nothing else.
public sealed class when_the_key_ring_is_sealed
{
    private const string Current = "the-current-key-encryption-key-0000000001";
    private const string Previous = "the-previous-key-encryption-key-000000002";
    private const string Xml = "<key id=\"6d1c\"><descriptor><masterKey><value>c2VjcmV0</value></masterKey></descriptor></key>";

    private static KeyRingSeal Seal(string key, params string[] previous)
    {
        var settings = new Dictionary<string, string?> { ["Enate:DataProtection:KeyEncryptionKey"] = key };
        for (var i = 0; i < previous.Length; i++) settings[$"Enate:DataProtection:PreviousKeyEncryptionKeys:{i}"] = previous[i];
        return KeyRingSeal.From(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())!;
    }

    [Fact]
    public void an_entry_opens_to_its_xml_and_holds_none_of_it_in_the_clear()
    {
        var seal = Seal(Current);
        var entry = seal.Seal("key-6d1c", Xml);
        Assert.Equal("", entry.Xml);
        Assert.Equal(seal.Id, entry.SealedWith);
        Assert.DoesNotContain("masterKey", entry.Sealed);
        Assert.DoesNotContain("c2VjcmV0", entry.Sealed);
        Assert.Equal(Xml, seal.Open(entry));
        Assert.False(seal.Outdated(entry));
        // The nonce is new each time: sealing the same entry twice does not give the same text.
        Assert.NotEqual(entry.Sealed, seal.Seal("key-6d1c", Xml).Sealed);
    }

    [Fact]
    public void an_altered_entry_or_one_moved_to_another_id_does_not_open()
    {
        var seal = Seal(Current);
        var entry = seal.Seal("key-6d1c", Xml);
        var bytes = Convert.FromBase64String(entry.Sealed!);
        bytes[20] ^= 1;
        var altered = new DataProtectionKey { Id = entry.Id, Sealed = Convert.ToBase64String(bytes), SealedWith = entry.SealedWith };
        Assert.Contains("altered", Assert.Throws<InvalidOperationException>(() => seal.Open(altered)).Message);
        var moved = new DataProtectionKey { Id = "key-other", Sealed = entry.Sealed, SealedWith = entry.SealedWith };
        Assert.Contains("altered", Assert.Throws<InvalidOperationException>(() => seal.Open(moved)).Message);
    }

    [Fact]
    public void after_a_rotation_old_entries_open_and_are_outdated_and_another_key_opens_nothing()
    {
        var old = Seal(Previous).Seal("key-6d1c", Xml);
        var rotated = Seal(Current, Previous);
        Assert.Equal(Xml, rotated.Open(old));
        Assert.True(rotated.Outdated(old));
        Assert.True(rotated.Outdated(new DataProtectionKey { Id = "key-6d1c", Xml = Xml }));

        var failure = Assert.Throws<InvalidOperationException>(() => Seal(Current).Open(old));
        Assert.Contains("Enate:DataProtection:KeyEncryptionKey", failure.Message);
    }

    [Fact]
    public void a_short_secret_is_refused_and_none_means_no_seal()
    {
        Assert.Throws<InvalidOperationException>(() => Seal("too-short"));
        Assert.Throws<InvalidOperationException>(() => Seal(Current, "too-short"));
        Assert.Null(KeyRingSeal.From(new ConfigurationBuilder().Build()));
    }

    [Fact]
    public void the_key_may_come_from_a_file()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, Current + "\n");
            var fromFile = KeyRingSeal.From(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Enate:DataProtection:KeyEncryptionKeyFile"] = file }).Build())!;
            Assert.Equal(Seal(Current).Id, fromFile.Id);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
