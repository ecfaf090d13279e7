namespace Enate.Api.Platform;

/// Rejects what no endpoint can use before any endpoint runs: bodies that are too large (413)
/// and bodies that are not JSON (415), each as problem+json, so nothing is half-done.
public static class RequestGuards
{
    public const long DefaultMaxBodyBytes = 1024 * 1024;

    public static WebApplicationBuilder AddRequestGuards(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes(builder.Configuration));
        return builder;
    }

    private static long MaxBodyBytes(IConfiguration configuration) =>
        configuration.GetValue("Enate:Limits:MaxBodyBytes", DefaultMaxBodyBytes);

    public static IApplicationBuilder UseRequestGuards(this IApplicationBuilder app)
    {
        var limit = MaxBodyBytes(app.ApplicationServices.GetRequiredService<IConfiguration>());
        return app.Use(async (context, next) =>
        {
            var request = context.Request;
            var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
            if (hasBody && request.Path.StartsWithSegments("/api") && !IsJson(request.ContentType))
            {
                await Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "Unsupported media type.",
                    $"Send the body as application/json, not '{request.ContentType ?? "(none)"}'.").ExecuteAsync(context);
                return;
            }

            if (request.ContentLength > limit)
            {
                await TooLarge(context, limit);
                return;
            }
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
            {
                // A chunked body that turned out too large while being read.
                await TooLarge(context, limit);
            }
        });
    }

    private static Task TooLarge(HttpContext context, long limit) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "Payload too large.",
            $"The body is larger than the {limit} bytes this endpoint accepts.").ExecuteAsync(context);

    private static bool IsJson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ||
            contentType.Contains("+json", StringComparison.OrdinalIgnoreCase));
}
