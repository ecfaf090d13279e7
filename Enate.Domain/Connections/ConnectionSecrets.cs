using Microsoft.AspNetCore.DataProtection;

namespace Enate.Domain.Connections;

/// Encrypts connection secrets at rest with ASP.NET Core Data Protection (key ring in PostgreSQL).
public sealed class ConnectionSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("Enate.Connections.Secrets.v1");

    public ConnectionAuth Unprotect(ConnectionAuth stored) => stored.MapSecrets(s => s is null ? null : _protector.Unprotect(s));

    /// Encrypts what the client sent; a secret sent back as the mask it was shown keeps the stored ciphertext.
    public ConnectionAuth ProtectIncoming(ConnectionAuth incoming, ConnectionAuth? stored)
    {
        var keep = stored is not null && stored.Type == incoming.Type;
        string? Field(string? sent, string? kept) =>
            sent == ConnectionAuth.Mask ? (keep ? kept : null) : sent is null ? null : _protector.Protect(sent);
        return incoming with
        {
            Value = Field(incoming.Value, stored?.Value),
            Token = Field(incoming.Token, stored?.Token),
            Password = Field(incoming.Password, stored?.Password),
            ClientSecret = Field(incoming.ClientSecret, stored?.ClientSecret),
        };
    }
}
