using System.Text.Json;
using Enate.Api.Runs;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;

namespace Enate.Api.Triggers;

/// A request as it arrived at a trigger, ready to be recorded.
public sealed record Arrival(string Channel, string Target, string Method, string Path, Dictionary<string, string> Headers,
    byte[] Body, string? ContentType, DateTimeOffset At)
{
    public static async Task<Arrival> ReadAsync(HttpRequest request, string channel, string target, DateTimeOffset at,
        params string?[] secretHeaders)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var headers = Recording.Headers(request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString())), secretHeaders);
        return new Arrival(channel, target, request.Method, request.Path + request.QueryString, headers, buffer.ToArray(),
            request.ContentType, at);
    }

    public InboundRequestRecorded Record(Guid id, string verdict, int status, string? reason, Guid[] runIds, string? deliveryKey = null,
        RecordedBody? body = null) =>
        new(id, Channel, Target, Method, Path, Headers, body ?? Recording.Body(Body, ContentType), verdict, status, reason, runIds, At,
            deliveryKey);

    /// The body as JSON, or null when it is not (the caller rejects it as 400).
    public JsonElement? Json() => Parsed.Json;

    /// Whether Json() read the body without duplicate keys, so that a run may read its input from the recorded body.
    public bool JsonIsExact => Parsed.Exact;

    private (JsonElement? Json, bool Exact) Parsed => _parsed ??= Parse(Body);
    private (JsonElement?, bool)? _parsed;

    private static (JsonElement?, bool) Parse(byte[] body)
    {
        if (RunInputs.ParseExact(body) is { } exact) return (exact, true);
        // Valid JSON with a duplicated key is still accepted, as before; only its run keeps the input of its own.
        try
        {
            using var document = JsonDocument.Parse(body);
            return (document.RootElement.Clone(), false);
        }
        catch (JsonException)
        {
            return (null, false);
        }
    }
}

public sealed record IntakeResult(bool Duplicate, Guid[] RunIds, Guid InboundId);

/// Records every request that reaches a trigger and starts its runs, in one transaction with the record and
/// the messages to the Workers. Requests without an API key (webhooks) learn their tenant from what they
/// address, so sessions are opened here for that tenant rather than taken from the request.
public sealed class TriggerIntake(IDocumentStore store, GroupCommit commits, TimeProvider clock)
{
    /// Requests whose tenant is unknown (an unknown hook or subscription) are recorded as the platform's.
    public const string PlatformTenant = "_platform";

    public DateTimeOffset Now => clock.GetUtcNow();

    public async Task RejectAsync(string tenant, Arrival arrival, int status, string reason, CancellationToken ct)
    {
        await using var session = store.LightweightSession(tenant);
        var id = Guid.CreateVersion7(arrival.At);
        session.Events.StartStream<InboundRequest>(id, arrival.Record(id, Verdicts.Rejected, status, reason, []));
        await session.SaveChangesAsync(ct);
    }

    /// Starts one run per recipe with the body as input (`arrival.Json()`), unless the delivery key was seen before:
    /// then nothing starts and the original runs are returned.
    public async Task<IntakeResult> AcceptAsync(string tenant, Arrival arrival, string? deliveryKey,
        IReadOnlyList<Recipe> recipes, string requestedBy, CancellationToken ct)
    {
        var input = arrival.Json() ?? throw new ArgumentException("Only a JSON body is accepted as a run's input.", nameof(arrival));
        // No look-up first: the accepted record carries the delivery key, unique per tenant, so a repeat fails to
        // commit (below). Repeats are rare; a round trip on every delivery is not.
        var inboundId = Guid.CreateVersion7(arrival.At);
        var body = Recording.Body(arrival.Body, arrival.ContentType);
        // The body is stored once, in the inbound record, when that record keeps it whole: the runs read it from there.
        var inputInInbound = body.Text is not null && arrival.JsonIsExact;
        var streams = new List<NewStream>();
        var messages = new List<object>();
        await using (var query = store.QuerySession(tenant))
        {
            foreach (var recipe in recipes)
            {
                var (run, message) = await RunStarter.PrepareAsync(query,
                    new RunRequest(recipe, input, arrival.Channel, null, requestedBy, InboundId: inboundId, InputInInbound: inputInInbound),
                    arrival.At, ct);
                streams.Add(run);
                messages.Add(message);
            }
        }
        var runIds = streams.Select(s => s.Id).ToArray();
        var status = runIds.Length > 0 ? StatusCodes.Status202Accepted : StatusCodes.Status200OK;
        var reason = runIds.Length > 0 ? null : "No active recipe matches.";
        streams.Add(new NewStream(typeof(InboundRequest), inboundId,
            [arrival.Record(inboundId, Verdicts.Accepted, status, reason, runIds, deliveryKey, body)]));
        try
        {
            // Shares a transaction with concurrent requests (group commit); returns once it is committed.
            await commits.CommitAsync(new RunStart(tenant, streams, [], messages), ct);
            return new IntakeResult(false, runIds, inboundId);
        }
        catch (Exception ex) when (deliveryKey is not null && Deliveries.IsRepeat(ex))
        {
            // A repeat of a delivery already accepted (or the same delivery arriving twice at once).
            await using var fresh = store.QuerySession(tenant);
            var first = await fresh.Query<InboundRequest>().SingleAsync(r => r.DeliveryKey == deliveryKey, ct);
            return await DuplicateAsync(tenant, arrival, first, deliveryKey, ct);
        }
    }

    private async Task<IntakeResult> DuplicateAsync(string tenant, Arrival arrival, InboundRequest first, string deliveryKey,
        CancellationToken ct)
    {
        await using var session = store.LightweightSession(tenant);
        var id = Guid.CreateVersion7(arrival.At);
        session.Events.StartStream<InboundRequest>(id,
            arrival.Record(id, Verdicts.Duplicate, StatusCodes.Status200OK, $"A repeat of inbound request {first.Id}.", first.RunIds, deliveryKey));
        await session.SaveChangesAsync(ct);
        return new IntakeResult(true, first.RunIds, id);
    }
}
