namespace Enate.Domain.Connections;

public static class ConnectionKinds
{
    public const string Http = "http";
    public const string Enate = "enate";
    public static readonly string[] All = [Http, Enate];
}

public static class AuthTypes
{
    public const string None = "none";
    public const string ApiKey = "apiKey";
    public const string Bearer = "bearer";
    public const string Basic = "basic";
    public const string OAuth2ClientCredentials = "oauth2ClientCredentials";
    public static readonly string[] All = [None, ApiKey, Bearer, Basic, OAuth2ClientCredentials];
}

/// How a connection authenticates. In storage the secret fields hold ciphertext; in API answers, "***".
public sealed record ConnectionAuth
{
    public string Type { get; init; } = AuthTypes.None;
    public string? Header { get; init; }
    public string? Value { get; init; }
    public string? Token { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public string? TokenUrl { get; init; }
    public string? ClientId { get; init; }
    public string? ClientSecret { get; init; }
    public string? Scope { get; init; }

    public const string Mask = "***";

    /// The same auth with every secret field passed through <paramref name="map"/>.
    public ConnectionAuth MapSecrets(Func<string?, string?> map) => this with
    {
        Value = map(Value),
        Token = map(Token),
        Password = map(Password),
        ClientSecret = map(ClientSecret),
    };

    public ConnectionAuth Masked() => MapSecrets(secret => secret is null ? null : Mask);
}

/// An external system or an Enate instance (document id = name).
[Marten.Schema.UseOptimisticConcurrency]
public sealed class Connection
{
    public string Id { get; set; } = "";
    /// The tenant the connection belongs to, filled in by the store when it is read (not part of the document).
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Tenant { get; set; }
    /// Changes on every write of the document: the connection's ETag. Writes are checked against the revision they read.
    [Marten.Schema.Version]
    public Guid Revision { get; set; }
    public string Kind { get; set; } = ConnectionKinds.Http;
    public string BaseUrl { get; set; } = "";
    public ConnectionAuth Auth { get; set; } = new();
    public int TimeoutSeconds { get; set; } = 30;
    /// The longest a connection may wait for its partner's answer; the Workers let a message's handling run longer.
    public const int MaxTimeoutSeconds = 300;
    /// Origins besides the base URL's that an Enate action's CallBackURL may point at (the callback carries this
    /// connection's credentials). Empty: callbacks go to the base URL's origin only.
    public List<string> CallbackOrigins { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }
}
