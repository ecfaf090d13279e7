using Enate.Domain.Connections;

namespace Enate.Domain.Engine;

/// Where a connection's credentials may go: its own origin (scheme, host and port of its base URL) and, for the
/// callback of an Enate action, the origins the connection lists for callbacks. Nothing is sent anywhere else.
public static class Origins
{
    /// "scheme://host:port", lower case, the port always written out; null when the text is not an absolute http(s) URL.
    public static string? Of(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? Of(uri) : null;

    public static string Of(Uri uri) => $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}".ToLowerInvariant();

    /// Whether a call on this connection may go to this URL with the connection's credentials.
    public static bool Allows(Connection connection, Uri target, bool callback)
    {
        var origin = Of(target);
        if (origin == Of(connection.BaseUrl)) return true;
        return callback && connection.CallbackOrigins.Any(allowed => Of(allowed) == origin);
    }

    /// Why a call is refused, for the run's record.
    public static string Refusal(Connection connection, Uri target, bool callback) =>
        $"{Of(target)} is not the origin of connection '{connection.Id}' ({Of(connection.BaseUrl)})" +
        (callback ? " nor one of its callbackOrigins" : "") + ": its credentials are sent nowhere else, so nothing was sent.";
}
