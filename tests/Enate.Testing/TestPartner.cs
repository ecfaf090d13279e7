using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Enate.Testing;

/// A partner's API on a real loopback port: it records what it receives, counts the requests it
/// answered with success per Idempotency-Key (a doubled side effect shows as 2), and answers from a script.
public sealed class TestPartner : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, string Body, TimeSpan Delay, IDictionary<string, string>? Headers)> _script = new();

    /// A request as received; RawTarget is the path and query exactly as sent, before the server decoded them.
    public sealed record Received(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, string RawTarget = "");

    private TestPartner(WebApplication app) => _app = app;

    public ConcurrentQueue<Received> Requests { get; } = new();
    public ConcurrentDictionary<string, int> SuccessesByKey { get; } = new();
    public string BaseUrl { get; private set; } = "";

    /// The answer once the script is used up.
    public string DefaultBody { get; set; } = "{\"ok\":true}";

    /// Blocks each request until released: lets a test act while a call is in flight.
    public SemaphoreSlim? Gate { get; set; }

    /// When set, the gate holds only requests to this path.
    public string? GatedPath { get; set; }

    public static async Task<TestPartner> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var partner = new TestPartner(app);
        app.Run(partner.HandleAsync);
        await app.StartAsync();
        partner.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return partner;
    }

    /// The next requests get these answers, in order; once the script is used up, 200 with {"ok":true}.
    public TestPartner Then(int status, string body = "{}", TimeSpan? delay = null, IDictionary<string, string>? headers = null)
    {
        _script.Enqueue((status, body, delay ?? TimeSpan.Zero, headers));
        return this;
    }

    public int SuccessesFor(string idempotencyKey) => SuccessesByKey.GetValueOrDefault(idempotencyKey);

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
        Requests.Enqueue(new Received(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body, raw));

        if (Gate is { } gate && (GatedPath is null || context.Request.Path == GatedPath)) await gate.WaitAsync(context.RequestAborted);

        var (status, answer, delay, extra) = _script.TryDequeue(out var scripted) ? scripted : (200, DefaultBody, TimeSpan.Zero, null);
        if (delay > TimeSpan.Zero) await Task.Delay(delay, context.RequestAborted);
        if (status is >= 200 and < 300 && headers.TryGetValue("Idempotency-Key", out var key))
        {
            SuccessesByKey.AddOrUpdate(key, 1, (_, n) => n + 1);
        }
        context.Response.StatusCode = status;
        foreach (var (name, value) in extra ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer);
    }

    public async ValueTask DisposeAsync()
    {
        Gate?.Release(1000);
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
