namespace Enate.Api.Platform;

/// Rejects what no endpoint can use before any endpoint runs: bodies that are too large (413)
/// and bodies that are not JSON (415), each as problem+json, so nothing is half-done.
public static class RequestGuards
{
    public const long DefaultMaxBodyBytes = 1024 * 1024;
    public const long DefaultMaxFileBodyBytes = 10 * 1024 * 1024;
    /// The longest path and query the API reads.
    public const int MaxTargetLength = 8 * 1024;

    public static WebApplicationBuilder AddRequestGuards(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = Math.Max(MaxBodyBytes(builder.Configuration), MaxFileBodyBytes(builder.Configuration));
            // Kestrel answers an over-long request line itself, with no body: let the line through up to eight times the
            // platform's own limit, so that the guard below answers with problem+json instead.
            kestrel.Limits.MaxRequestLineSize = 8 * MaxTargetLength;
        });
        return builder;
    }

    private static long MaxBodyBytes(IConfiguration configuration) =>
        configuration.GetValue("Enate:Limits:MaxBodyBytes", DefaultMaxBodyBytes);

    private static long MaxFileBodyBytes(IConfiguration configuration) =>
        configuration.GetValue("Enate:Limits:MaxFileBodyBytes", DefaultMaxFileBodyBytes);

    /// Pattern 4 sends files (CSV, XLSX as base64) through the run triggers: those take up to 10 MiB.
    private static bool TakesFiles(PathString path) =>
        path.StartsWithSegments("/api/v1/enate/actions") ||
        (path.StartsWithSegments("/api/v1/recipes") && path.Value!.EndsWith("/runs", StringComparison.Ordinal));

    public static IApplicationBuilder UseRequestGuards(this IApplicationBuilder app)
    {
        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        var (small, files) = (MaxBodyBytes(configuration), MaxFileBodyBytes(configuration));
        return app.Use(async (context, next) =>
        {
            var request = context.Request;
            var limit = TakesFiles(request.Path) ? files : small;
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
                feature.MaxRequestBodySize = limit;
            if (request.Path.Value?.Length + request.QueryString.Value?.Length > MaxTargetLength)
            {
                await Problems.Problem(StatusCodes.Status414UriTooLong, "uri-too-long", "URI too long.",
                    $"The path and query are longer than the {MaxTargetLength} characters the API reads.").ExecuteAsync(context);
                return;
            }
            var hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
            if (hasBody && request.Path.StartsWithSegments("/api") && !IsJson(request.ContentType) && !IsRecipeInYaml(request))
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
                if (hasBody && request.ContentLength is null or <= 16 && await IsJsonNullAsync(request))
                {
                    await Problems.Problem(StatusCodes.Status422UnprocessableEntity, "validation", "The request is not valid.",
                        "The body is JSON null; send a JSON object or value.").ExecuteAsync(context);
                    return;
                }
                // Triggers keep any JSON, U+0000 included (the event store holds it: StoredJson). Recipes, connections and the
                // rest are the platform's own settings, where U+0000 is never meant: refused at once, before it is stored.
                if (hasBody && request.Path.StartsWithSegments("/api") && !IsTrigger(request.Path) && await TextProblemAsync(request) is { } problem)
                {
                    await problem.ExecuteAsync(context);
                    return;
                }
                await next(context);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
            {
                // A chunked body that turned out too large while being read.
                await TooLarge(context, limit);
            }
            catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
            {
                // A body that broke off, came in malformed chunks or too slowly, wherever it was being read.
                await Problems.BadRequest("bad-request", $"The request's body could not be read: {ex.Message}").ExecuteAsync(context);
            }
        });
    }

    /// The routes that start runs: their bodies are recorded as they came.
    private static bool IsTrigger(PathString path) =>
        TakesFiles(path) || path.StartsWithSegments("/api/v1/hooks") || path.StartsWithSegments("/api/v1/enate/webhooks");

    /// Why a body is no text the platform keeps in its settings: not UTF-8, or escaping U+0000. Read once into a buffer
    /// the endpoint reads again; bodies here are small settings.
    private static async Task<IResult?> TextProblemAsync(HttpRequest request)
    {
        request.EnableBuffering();
        using var copy = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        // Kestrel's body size limit, set above, stops a chunked body that is too large (413) while it is read.
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0) copy.Write(chunk, 0, read);
        request.Body.Position = 0;
        var body = copy.GetBuffer().AsSpan(0, (int)copy.Length);
        if (!System.Text.Unicode.Utf8.IsValid(body)) return Problems.BadRequest("malformed-json", "The body is not UTF-8 text, so it is not JSON.");
        return body.IndexOf("\\u0000"u8) >= 0
            ? Problems.BadRequest("nul-character", "The body holds the character U+0000 (\\u0000), which no recipe, connection or setting may contain.")
            : null;
    }

    /// A body of JSON `null` binds to no object at all: refuse it here once, for every route.
    private static async Task<bool> IsJsonNullAsync(HttpRequest request)
    {
        request.EnableBuffering();
        var head = new byte[17];
        var read = 0;
        int n;
        while (read < head.Length && (n = await request.Body.ReadAsync(head.AsMemory(read), request.HttpContext.RequestAborted)) > 0) read += n;
        request.Body.Position = 0;
        return read <= 16 && System.Text.Encoding.UTF8.GetString(head, 0, read).Trim() == "null";
    }

    private static Task TooLarge(HttpContext context, long limit) =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "payload-too-large", "Payload too large.",
            $"The body is larger than the {limit} bytes this endpoint accepts.").ExecuteAsync(context);

    /// A recipe may be saved or validated as YAML (PUT /api/v1/recipes/{key}, POST /api/v1/recipes/{key}/validate).
    private static bool IsRecipeInYaml(HttpRequest request) =>
        Recipes.RecipeYaml.IsYaml(request.ContentType) && request.Path.StartsWithSegments("/api/v1/recipes", out var rest) &&
        (HttpMethods.IsPut(request.Method) && rest.Value?.Count(c => c == '/') == 1 ||
         HttpMethods.IsPost(request.Method) && rest.Value?.Count(c => c == '/') == 2 && rest.Value.EndsWith("/validate", StringComparison.Ordinal));

    private static bool IsJson(string? contentType) =>
        contentType is not null && (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ||
            contentType.Contains("+json", StringComparison.OrdinalIgnoreCase));
}
