using Enate.Api.Platform;
using Enate.Domain.Connections;
using Enate.Domain.Engine;

namespace Enate.Api.Connections;

public static class ConnectionRules
{
    public static List<FieldProblem> Check(string name, ConnectionRequest request, Connection? existing)
    {
        var errors = new List<FieldProblem>();
        if (!Names.IsValid(name)) errors.Add(new("$name", Names.Rule));
        if (request.Kind is null || !ConnectionKinds.All.Contains(request.Kind))
            errors.Add(new("$.kind", $"must be one of {string.Join(", ", ConnectionKinds.All)}."));
        if (!Uri.TryCreate(request.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            errors.Add(new("$.baseUrl", "must be an absolute http or https URL."));
        // A base URL is shown to readers and recorded in every call's event: credentials belong in `auth`, which is
        // encrypted, masked and redacted.
        else if (baseUrl.UserInfo.Length > 0)
            errors.Add(new("$.baseUrl", "must not carry a user name or password: put credentials in auth (type basic)."));
        if (request.TimeoutSeconds is < 1 or > Connection.MaxTimeoutSeconds)
            errors.Add(new("$.timeoutSeconds", $"must be between 1 and {Connection.MaxTimeoutSeconds}."));
        var origins = request.CallbackOrigins ?? [];
        if (origins.Count > 20) errors.Add(new("$.callbackOrigins", "may list at most 20 origins."));
        for (var i = 0; i < origins.Count; i++)
        {
            if (!Uri.TryCreate(origins[i], UriKind.Absolute, out var origin) || origin.Scheme is not ("http" or "https") ||
                origin.PathAndQuery != "/" || origin.UserInfo.Length > 0)
                errors.Add(new($"$.callbackOrigins[{i}]", "must be an origin: http(s)://host[:port], nothing after it."));
        }

        var auth = request.Auth ?? new ConnectionAuth();
        void Require(string? value, string field)
        {
            if (string.IsNullOrWhiteSpace(value)) errors.Add(new($"$.auth.{field}", $"is required for auth type '{auth.Type}'."));
        }
        switch (auth.Type)
        {
            case AuthTypes.None: break;
            case AuthTypes.ApiKey: Require(auth.Header, "header"); Require(auth.Value, "value"); break;
            case AuthTypes.Bearer: Require(auth.Token, "token"); break;
            case AuthTypes.Basic: Require(auth.Username, "username"); Require(auth.Password, "password"); break;
            case AuthTypes.OAuth2ClientCredentials:
                Require(auth.TokenUrl, "tokenUrl"); Require(auth.ClientId, "clientId"); Require(auth.ClientSecret, "clientSecret");
                if (auth.TokenUrl is not null && Origins.Of(auth.TokenUrl) is null)
                    errors.Add(new("$.auth.tokenUrl", "must be an absolute http or https URL."));
                else if (auth.TokenUrl is not null && new Uri(auth.TokenUrl).UserInfo.Length > 0)
                    errors.Add(new("$.auth.tokenUrl", "must not carry a user name or password: the client id and secret are the credentials."));
                break;
            default:
                errors.Add(new("$.auth.type", $"must be one of {string.Join(", ", AuthTypes.All)}."));
                break;
        }
        if (errors.Count == 0 && existing is not null && Repointed(request, existing) is { } change)
        {
            foreach (var (field, value) in Secrets(auth))
                if (value == ConnectionAuth.Mask)
                    errors.Add(new($"$.auth.{field}", $"must be sent again, not \"***\": {change}, and a stored secret never follows a connection elsewhere."));
        }
        return errors;
    }

    /// What makes the stored secret go somewhere new, if anything does.
    private static string? Repointed(ConnectionRequest request, Connection existing)
    {
        var auth = request.Auth ?? new ConnectionAuth();
        if (request.BaseUrl!.TrimEnd('/') != existing.BaseUrl) return "the base URL changed";
        if (auth.Type != existing.Auth.Type) return "the auth type changed";
        if (auth.TokenUrl != existing.Auth.TokenUrl) return "the token URL changed";
        if (!string.Equals(auth.Header, existing.Auth.Header, StringComparison.OrdinalIgnoreCase)) return "the header changed";
        var known = existing.CallbackOrigins.Select(Origins.Of).ToHashSet();
        if ((request.CallbackOrigins ?? []).Any(o => !known.Contains(Origins.Of(o)))) return "callbackOrigins lists a new origin";
        return null;
    }

    private static IEnumerable<(string Field, string? Value)> Secrets(ConnectionAuth auth) =>
        [("value", auth.Value), ("token", auth.Token), ("password", auth.Password), ("clientSecret", auth.ClientSecret)];
}
