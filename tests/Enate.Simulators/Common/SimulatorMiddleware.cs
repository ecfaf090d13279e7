using System.Text;

namespace Enate.Simulators.Common;

/// Marks an endpoint whose successful answer changes the app's state: counted and deduplicated by Idempotency-Key.
public sealed class SideEffect
{
    public static readonly SideEffect Instance = new();
}

public static class SideEffectExtensions
{
    public static TBuilder IsSideEffect<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(SideEffect.Instance);
}

/// In front of every real API path: records the request, injects the configured fault, and applies a side effect
/// at most once per Idempotency-Key (a repeat replays the first answer).
public sealed class SimulatorMiddleware(RequestDelegate next, SimulatedApps apps, TimeProvider clock)
{
    public const string IdempotencyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context)
    {
        if (apps.ForApiPath(context.Request.Path) is not { } app)
        {
            await next(context);
            return;
        }

        var body = await ReadBodyAsync(context.Request);
        var key = context.Request.Headers[IdempotencyHeader].FirstOrDefault() is { Length: > 0 } k ? k : null;
        var isSideEffect = context.GetEndpoint()?.Metadata.GetMetadata<SideEffect>() is not null;
        app.Requests.Add(context.Request, body, key, clock.GetUtcNow());
        if (isSideEffect) app.Effects.CountAttempt(key);

        var fault = app.Faults.Decide(clock.GetUtcNow());
        if (fault.Delay > TimeSpan.Zero) await Task.Delay(fault.Delay, context.RequestAborted);
        if (fault.Status is { } status)
        {
            await WriteFaultAsync(context, app.Name, status, fault.RetryAfterSeconds);
            return;
        }

        if (!isSideEffect)
        {
            await next(context);
            return;
        }
        if (key is null)
        {
            var response = await CaptureAsync(context);
            if (IsSuccess(response.Status)) app.Effects.Applied(null, response);
            return;
        }

        var gate = app.Effects.GateFor(key);
        await gate.WaitAsync(context.RequestAborted);
        try
        {
            if (app.Effects.Replay(key) is { } stored)
            {
                await ReplayAsync(context, stored);
                return;
            }
            var response = await CaptureAsync(context);
            if (IsSuccess(response.Status)) app.Effects.Applied(key, response);
        }
        finally
        {
            gate.Release();
        }
    }

    private static bool IsSuccess(int status) => status is >= 200 and < 300;

    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true);
        var body = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        request.Body.Position = 0;
        return body;
    }

    /// Runs the endpoint into a buffer so that its answer can be stored for replays, then sends it on.
    private async Task<StoredResponse> CaptureAsync(HttpContext context)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
        return new StoredResponse(context.Response.StatusCode, context.Response.ContentType,
            context.Response.Headers.Location.FirstOrDefault(), buffer.ToArray());
    }

    private static async Task ReplayAsync(HttpContext context, StoredResponse stored)
    {
        context.Response.StatusCode = stored.Status;
        if (stored.ContentType is not null) context.Response.ContentType = stored.ContentType;
        if (stored.Location is not null) context.Response.Headers.Location = stored.Location;
        context.Response.Headers[ReplayedHeader] = "true";
        await context.Response.Body.WriteAsync(stored.Body, context.RequestAborted);
    }

    private static async Task WriteFaultAsync(HttpContext context, string app, int status, int? retryAfterSeconds)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status is StatusCodes.Status204NoContent or StatusCodes.Status304NotModified) return;
        await context.Response.WriteAsJsonAsync(
            new { type = "about:blank", title = "Simulated fault", status, detail = $"The {app} simulator injected this fault." },
            options: null, contentType: "application/problem+json", cancellationToken: context.RequestAborted);
    }
}
