using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Runs;

namespace Enate.Domain.Outbound;

/// A response or token answer over its limit: the call fails for good, since the same request gets the same answer.
public sealed class ResponseTooLargeException(string message) : Exception(message);

/// The only place that calls a partner: the engine's live answerer. Everything it learns is returned to become events.
public sealed class OutboundCaller(IHttpClientFactory clients, ConnectionSecrets secrets, AccessTokens tokens, TimeProvider clock, Limits limits,
    ConnectionActivity activity)
    : IAnswerer
{
    public const string ClientName = "outbound";

    public async Task<Answer?> AnswerAsync(CallRequest call, CancellationToken ct)
    {
        var (sent, plan, connection) = call;
        var auth = secrets.Unprotect(connection.Auth);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(connection.TimeoutSeconds));

            var response = await SendOnceAsync(sent, plan, auth, refreshToken: false, timeout.Token);
            if (response.StatusCode == HttpStatusCode.Unauthorized && auth.Type == AuthTypes.OAuth2ClientCredentials)
            {
                // The cached token may have been revoked: fetch a fresh one and try once more.
                response.Dispose();
                response = await SendOnceAsync(sent, plan, auth, refreshToken: true, timeout.Token);
            }

            using (response)
            {
                var bytes = await ReadLimitedAsync(response.Content, limits.MaxResponseBytes, "response", timeout.Token);
                var contentType = response.Content.Headers.ContentType?.ToString();
                var headers = response.Headers.Concat(response.Content.Headers)
                    .Select(h => KeyValuePair.Create(h.Key, string.Join(", ", h.Value)));
                var recordedHeaders = Recording.ResponseHeaders(headers, auth.Header, [auth.Value, auth.Token, auth.Password, auth.ClientSecret]);
                var status = (int)response.StatusCode;
                var received = new OutboundResponseReceived(sent.RunId, sent.StepId, sent.Attempt, status, recordedHeaders,
                    Recording.Body(bytes, contentType), Stopwatch.GetElapsedTime(started).TotalMilliseconds, clock.GetUtcNow());
                if (status is >= 200 and < 300) activity.Succeeded(connection.Tenant, connection.Id, received.ReceivedAt);
                else activity.Failed(connection.Tenant, connection.Id, received.ReceivedAt, $"{status} {response.ReasonPhrase}".Trim());
                return new Answer(received, new CallOutcome(status, RetryAfter(response), null), Output(status, recordedHeaders, bytes, contentType));
            }
        }
        catch (Exception ex) when (!ct.IsCancellationRequested &&
                                   ex is HttpRequestException or OperationCanceledException or TokenRequestException or ResponseTooLargeException)
        {
            var (reason, permanent) = ex switch
            {
                OperationCanceledException => ($"No answer within {connection.TimeoutSeconds} s.", false),
                TokenRequestException token => (token.Message, !token.Transient),
                ResponseTooLargeException => (ex.Message, true),
                { InnerException: AddressRefusedException refused } => (refused.Message, true),
                _ => (ex.Message, false),
            };
            var failed = new OutboundCallFailed(sent.RunId, sent.StepId, sent.Attempt, !permanent, null, reason, null, clock.GetUtcNow());
            activity.Failed(connection.Tenant, connection.Id, failed.FailedAt, reason);
            return new Answer(failed, new CallOutcome(null, null, reason, permanent), default);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(OutboundRequestSent sent, CallPlan plan, ConnectionAuth auth, bool refreshToken,
        CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(plan.Method), sent.Url);
        foreach (var (name, value) in plan.Headers) request.Headers.TryAddWithoutValidation(name, value);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", sent.IdempotencyKey);
        if (plan.Body is not null) request.Content = new StringContent(plan.Body, Encoding.UTF8, plan.ContentType ?? "application/json");

        switch (auth.Type)
        {
            case AuthTypes.ApiKey:
                request.Headers.TryAddWithoutValidation(auth.Header!, auth.Value);
                break;
            case AuthTypes.Bearer:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth.Token);
                break;
            case AuthTypes.Basic:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}")));
                break;
            case AuthTypes.OAuth2ClientCredentials:
                var token = await tokens.GetAsync(auth, refreshToken, ct);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                break;
        }

        return await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    public static async Task<byte[]> ReadLimitedAsync(HttpContent content, int maxBytes, string what, CancellationToken ct)
    {
        if (content.Headers.ContentLength > maxBytes) throw new ResponseTooLargeException($"The {what} is larger than {maxBytes:N0} bytes.");
        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        // Most answers are a few hundred bytes: a pooled chunk, not 80 KB of fresh memory for every call.
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > maxBytes) throw new ResponseTooLargeException($"The {what} is larger than {maxBytes:N0} bytes.");
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }

    /// The step's output as later steps see it: status, headers and the body parsed by content type.
    private static JsonElement Output(int status, Dictionary<string, string> headers, byte[] body, string? contentType)
    {
        var text = Encoding.UTF8.GetString(body);
        JsonNode? parsed = text;
        if (contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && text.Length > 0)
        {
            try
            {
                parsed = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // Not the JSON it claimed to be: keep the text.
            }
        }
        var headerNode = new JsonObject();
        foreach (var (name, value) in headers) headerNode[name.ToLowerInvariant()] = value;
        return RunContext.ToElement(new JsonObject { ["status"] = status, ["headers"] = headerNode, ["body"] = parsed });
    }
}
