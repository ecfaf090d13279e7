using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enate.Testing;

/// A real loopback address in front of an in-memory test server, so that a simulator can deliver webhooks and
/// call back to an API hosted by Alba. It copies method, path, headers and body both ways, nothing else.
public sealed class Relay : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Relay(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<Relay> StartAsync(HttpClient target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method),
                context.Request.Path + context.Request.QueryString);
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            foreach (var (name, values) in context.Request.Headers)
            {
                if (name is "Transfer-Encoding") continue;
                // The original Host goes along: links the API builds for others (hook and subscriber URLs)
                // must point at the relay, which is what the others can reach.
                if (name is "Host")
                {
                    request.Headers.Host = values.ToString();
                    continue;
                }
                if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
                    request.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
            using var response = await target.SendAsync(request);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (name is "Transfer-Encoding") continue;
                context.Response.Headers[name] = values.ToArray();
            }
            await response.Content.CopyToAsync(context.Response.Body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Relay(app, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
