using Enate.Api.Platform;
using Enate.Domain.Connections;

namespace Enate.Api.Connections;

public static class ConnectionRules
{
    public static List<FieldProblem> Check(string name, ConnectionRequest request)
    {
        var errors = new List<FieldProblem>();
        if (!Names.IsValid(name)) errors.Add(new("$name", Names.Rule));
        if (request.Kind is null || !ConnectionKinds.All.Contains(request.Kind))
            errors.Add(new("$.kind", $"must be one of {string.Join(", ", ConnectionKinds.All)}."));
        if (!Uri.TryCreate(request.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            errors.Add(new("$.baseUrl", "must be an absolute http or https URL."));
        if (request.TimeoutSeconds is < 1 or > 300)
            errors.Add(new("$.timeoutSeconds", "must be between 1 and 300."));

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
                if (auth.TokenUrl is not null && !Uri.TryCreate(auth.TokenUrl, UriKind.Absolute, out _))
                    errors.Add(new("$.auth.tokenUrl", "must be an absolute URL."));
                break;
            default:
                errors.Add(new("$.auth.type", $"must be one of {string.Join(", ", AuthTypes.All)}."));
                break;
        }
        return errors;
    }
}
