using System.Collections.Concurrent;

namespace Enate.Simulators.Common;

public sealed record RecordedRequest(
    long Id,
    DateTimeOffset At,
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    string? IdempotencyKey);

/// What an app received, newest last. Bounded so that a long benchmark does not exhaust memory.
public sealed class RequestLog
{
    public const int Capacity = 5000;
    private static readonly string[] SecretHeaders = ["Authorization", "X-Api-Key"];

    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private long _next;

    public RecordedRequest Add(HttpRequest request, string body, string? idempotencyKey, DateTimeOffset at)
    {
        var headers = request.Headers.ToDictionary(
            h => h.Key,
            h => SecretHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase) ? "***" : h.Value.ToString(),
            StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(Interlocked.Increment(ref _next), at, request.Method, request.Path.Value ?? "",
            request.QueryString.Value ?? "", headers, Redact(request, body), idempotencyKey);
        _requests.Enqueue(recorded);
        while (_requests.Count > Capacity) _requests.TryDequeue(out _);
        return recorded;
    }

    public IReadOnlyList<RecordedRequest> Snapshot() => [.. _requests];

    public void Clear() => _requests.Clear();

    // A token request carries the client secret in its form body: never hand it back.
    private static string Redact(HttpRequest request, string body)
    {
        if (!request.HasFormContentType || !body.Contains("client_secret=", StringComparison.Ordinal)) return body;
        return string.Join('&', body.Split('&').Select(pair =>
            pair.StartsWith("client_secret=", StringComparison.Ordinal) ? "client_secret=***" : pair));
    }
}
