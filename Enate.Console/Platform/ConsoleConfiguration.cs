using Enate.Console.Components;

namespace Enate.Console.Platform;

public static class ConsoleConfiguration
{
    /// The console's services: server-rendered pages, the sessions, and the API client. `Enate:Console:Api` is the
    /// API's address (under the app host, `http://api` through service discovery).
    public static WebApplicationBuilder AddConsole(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Sessions>();
        builder.Services.AddScoped<Api>();
        var api = builder.Configuration["Enate:Console:Api"] ?? "http://api";
        builder.Services.AddHttpClient(Api.Client, http => http.BaseAddress = new Uri(api));
        return builder;
    }

    /// Paths anyone may open: the sign-in page, the static files, health.
    private static bool IsOpen(PathString path) =>
        path.StartsWithSegments("/sign-in") || path == "/session" || path.StartsWithSegments("/console.css") || path.StartsWithSegments("/console.js") ||
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/favicon.ico");

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.UseStaticFiles();
        // Every page needs a signed-in session; without one the browser goes to the sign-in page and comes back.
        app.Use(async (context, next) =>
        {
            var sessions = context.RequestServices.GetRequiredService<Sessions>();
            if (!IsOpen(context.Request.Path) && sessions.Find(context.Request.Cookies[Sessions.Cookie]) is null)
            {
                context.Response.Redirect("/sign-in?return=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
                return;
            }
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Referrer-Policy"] = "same-origin";
            context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
            await next();
        });
        app.UseAntiforgery();
        app.MapRazorComponents<App>();
        app.MapActions();
        return app;
    }
}
