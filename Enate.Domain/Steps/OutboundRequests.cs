using Enate.Domain.Connections;
using Enate.Domain.Runs;

namespace Enate.Domain.Steps;

/// How a planned call is addressed and recorded, shared by the engine and dry runs.
public static class OutboundRequests
{
    public static string IdempotencyKey(Guid runId, string stepId) => $"{runId}:{stepId}";

    public static Uri ResolveUrl(Connection connection, string path) =>
        Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https"
            ? absolute
            : new Uri(connection.BaseUrl.TrimEnd('/') + "/" + path.TrimStart('/'));

    /// The request as it will leave, for the record: the credential header is shown as redacted, never filled in.
    public static OutboundRequestSent Describe(Guid runId, string stepId, int attempt, CallPlan plan, Connection connection,
        DateTimeOffset at)
    {
        var key = IdempotencyKey(runId, stepId);
        var headers = new Dictionary<string, string>(plan.Headers, StringComparer.OrdinalIgnoreCase) { ["Idempotency-Key"] = key };
        if (connection.Auth.Type != AuthTypes.None)
        {
            headers[connection.Auth.Type == AuthTypes.ApiKey ? connection.Auth.Header ?? "X-Api-Key" : "Authorization"] = Recording.Redacted;
        }
        return new OutboundRequestSent(runId, stepId, attempt, plan.Method, ResolveUrl(connection, plan.Path).ToString(),
            Recording.Headers(headers, connection.Auth.Header), Recording.Body(plan.Body, plan.ContentType), key, at);
    }
}
