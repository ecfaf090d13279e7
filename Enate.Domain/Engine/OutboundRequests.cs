using Enate.Domain.Connections;
using Enate.Domain.Runs;

namespace Enate.Domain.Engine;

/// How a planned call is addressed and recorded.
public static class OutboundRequests
{
    public static string IdempotencyKey(Guid runId, string stepId) => $"{runId}:{stepId}";

    /// The URL a path reaches on a connection: relative to its base URL, or the path itself when it is an absolute
    /// http(s) URL (which must still be on an origin the connection allows: Origins). Null when no URL can be made of it.
    public static Uri? ResolveUrl(Connection connection, string path)
    {
        if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https") return absolute;
        return Uri.TryCreate(connection.BaseUrl.TrimEnd('/') + "/" + path.TrimStart('/'), UriKind.Absolute, out var relative) ? relative : null;
    }

    /// The request as it will leave, for the record: the credential header is shown as redacted, never filled in.
    public static OutboundRequestSent Describe(Guid runId, string stepId, int attempt, CallPlan plan, Connection connection, Uri url,
        DateTimeOffset at)
    {
        var key = IdempotencyKey(runId, stepId);
        var headers = new Dictionary<string, string>(plan.Headers, StringComparer.OrdinalIgnoreCase) { ["Idempotency-Key"] = key };
        if (connection.Auth.Type != AuthTypes.None) headers[CredentialHeader(connection.Auth)] = Recording.Redacted;
        return new OutboundRequestSent(runId, stepId, attempt, plan.Method, url.ToString(),
            Recording.Headers(headers, connection.Auth.Header), Recording.Body(plan.Body, plan.ContentType), key, at);
    }

    /// The header that carries a connection's credential.
    public static string CredentialHeader(ConnectionAuth auth) => auth.Type == AuthTypes.ApiKey ? auth.Header ?? "X-Api-Key" : "Authorization";

    /// Headers a step may not set: the transport's own, and those that carry the connection's credentials.
    public static bool IsReserved(string name, ConnectionAuth? auth) =>
        name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("Idempotency-Key", StringComparison.OrdinalIgnoreCase) ||
        (auth is not null && auth.Type != AuthTypes.None && name.Equals(CredentialHeader(auth), StringComparison.OrdinalIgnoreCase));
}
