using System.Text.Json.Nodes;
using Enate.Cli.Client;
using Enate.Cli.Client.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;

using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Enate.Cli;

/// The generated client on one profile, and the few calls that carry a recipe or an export as it is written rather
/// than as a model: a recipe file goes to the platform byte for byte (JSON or YAML), and definitions come back as JSON.
public sealed class Platform : IDisposable
{
    private readonly HttpClient _http;

    public Platform(Profile profile, HttpMessageHandler? handler)
    {
        Url = profile.Url.TrimEnd('/');
        // Kiota's handlers: 429 and 503 are retried after the Retry-After the platform sends, redirects followed.
        _http = KiotaClientFactory.Create(handler);
        _http.Timeout = Timeout.InfiniteTimeSpan;
        Adapter = new HttpClientRequestAdapter(new KeyAuthentication(profile.Key), httpClient: _http) { BaseUrl = Url };
        Client = new EnateClient(Adapter);
    }

    public string Url { get; }
    public EnateClient Client { get; }
    public IRequestAdapter Adapter { get; }

    /// Every refusal of the platform is a problem (application/problem+json).
    public static readonly Dictionary<string, ParsableFactory<IParsable>> Problems = new()
    {
        ["XXX"] = ProblemDetails.CreateFromDiscriminatorValue,
    };

    /// A call's answer as JSON, as the platform wrote it.
    public async Task<JsonNode?> JsonAsync(RequestInformation request, CancellationToken ct)
    {
        request.Headers.TryAdd("Accept", "application/json");
        await using var stream = await Adapter.SendPrimitiveAsync<Stream>(request, Problems, ct);
        return stream is null ? null : await JsonNode.ParseAsync(stream, cancellationToken: ct);
    }

    /// A call's answer as a stream, read as it arrives.
    public async Task<Stream> StreamAsync(RequestInformation request, CancellationToken ct) =>
        await Adapter.SendPrimitiveAsync<Stream>(request, Problems, ct) ?? Stream.Null;

    /// A recipe file as the body of a call, with the media type its extension says.
    public static RequestInformation WithRecipe(RequestInformation request, RecipeFile file)
    {
        request.Headers.Remove("Content-Type");
        request.SetStreamContent(new MemoryStream(file.Content), file.MediaType);
        return request;
    }

    public static Task<string> JsonOfAsync<T>(T model) where T : IParsable => KiotaJsonSerializer.SerializeAsStringAsync(model);

    public void Dispose() => _http.Dispose();

    private sealed class KeyAuthentication(string key) : IAuthenticationProvider
    {
        public Task AuthenticateRequestAsync(RequestInformation request, Dictionary<string, object>? context = null, CancellationToken ct = default)
        {
            request.Headers.Add("Authorization", $"Bearer {key}");
            return Task.CompletedTask;
        }
    }
}
