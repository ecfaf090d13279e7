using System.Text.Json;
using Enate.Api.Runs;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using Wolverine.Marten.Publishing;
using Wolverine.Runtime;
using System.Threading.RateLimiting;
using Enate.Domain.Platform;

namespace Enate.Api.Triggers;

/// A request as it arrived at a trigger, ready to be recorded.
public sealed record InboundCopy(string Trigger, string Target, string Method, string Path, Dictionary<string, string> Headers,
    byte[] Body, string? ContentType, DateTimeOffset At, string? Source = null)
{
    public static async Task<InboundCopy> ReadAsync(HttpRequest request, string trigger, string target, DateTimeOffset at,
        params string?[] secretHeaders)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var headers = Recording.Headers(request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString())), secretHeaders);
        return new InboundCopy(trigger, target, request.Method, request.Path + request.QueryString, headers, buffer.ToArray(),
            request.ContentType, at, request.HttpContext.Connection.RemoteIpAddress?.ToString());
    }

    /// Why the body is not JSON a run can take, for the 400 and the record; null when it is.
    public string? JsonProblem => Parsed.Problem;

    public InboundRequestRecorded Record(Guid id, string verdict, int status, string? reason, Guid[] runIds, string? deliveryKey = null,
        RecordedBody? body = null) =>
        new(id, Trigger, Target, Method, Path, Headers, body ?? Recording.Body(Body, ContentType), verdict, status, reason, runIds, At,
            deliveryKey);

    /// The body as JSON, or null when it is not (the caller rejects it as 400).
    public JsonElement? Json() => Parsed.Json;

    /// Whether Json() read the body without duplicate keys, so that a run may read its input from the recorded body.
    public bool JsonIsExact => Parsed.Exact;

    private (JsonElement? Json, bool Exact, string? Problem) Parsed => _parsed ??= Parse(Body);
    private (JsonElement?, bool, string?)? _parsed;

    private static (JsonElement?, bool, string?) Parse(byte[] body)
    {
        // The parser checks UTF-8 only where it must decode, so a string of other bytes would fail later, when read.
        if (!System.Text.Unicode.Utf8.IsValid(body)) return (null, false, "The body is not UTF-8 text, so it is not JSON.");
        if (RunInputs.ParseExact(body) is { } exact) return Checked(exact, true);
        // Valid JSON with a duplicated key is still accepted; only its run keeps the input of its own.
        try
        {
            using var document = JsonDocument.Parse(body);
            return Checked(document.RootElement.Clone(), false);
        }
        catch (JsonException e)
        {
            return (null, false, $"The body is not valid JSON: {e.Message.Split(" LineNumber:")[0]}");
        }
    }

    /// JSON may escape half of a UTF-16 surrogate pair ("\ud800"), which is no character at all: no text can hold it.
    private static (JsonElement?, bool, string?) Checked(JsonElement json, bool exact) => JsonText.HasUnpairedSurrogate(json)
        ? (null, false, $"The body is not valid JSON text: {JsonText.UnpairedSurrogate}")
        : (json, exact, null);
}

public sealed record AcceptResult(bool Duplicate, Guid[] RunIds, Guid InboundId);

/// Records every request that reaches a trigger and starts its runs, in one transaction with the record and
/// the messages to the Workers. Requests without an API key (webhooks) learn their tenant from what they
/// address, so sessions are opened here for that tenant rather than taken from the request.
public sealed class InboundRequests(IDocumentStore store, GroupCommit commits, TimeProvider clock, IConfiguration configuration)
{
    /// Requests whose tenant is unknown (an unknown hook or subscription) are recorded as the platform's.
    public const string PlatformTenant = "_platform";

    private readonly int _rejectedBodyBytes = configuration.GetValue("Enate:Inbound:RejectedBodyBytes", 1024);
    private readonly PartitionedRateLimiter<string> _unknown = PerMinute(configuration.GetValue("Enate:Inbound:UnknownRecordsPerMinute", 6));

    public DateTimeOffset Now => clock.GetUtcNow();

    /// Records a refused request: its headers, its body's size and SHA-256 and only the first bytes of it
    /// (`Enate:Inbound:RejectedBodyBytes`), so refusing costs little to record.
    public async Task RejectAsync(string tenant, InboundCopy copy, int status, string reason, CancellationToken ct)
    {
        Telemetry.RejectedRequests.Add(1, new("status", status), new("recorded", true));
        await using var session = store.LightweightSession(tenant);
        var id = Guid.CreateVersion7(copy.At);
        session.Events.StartStream<InboundRequest>(id,
            copy.Record(id, Verdicts.Rejected, status, reason, [], body: Recording.Prefix(copy.Body, copy.ContentType, _rejectedBodyBytes)));
        await session.SaveChangesAsync(ct);
    }

    /// A request to a hook or subscription that does not exist: counted always, recorded (as the platform's) only a
    /// few times a minute per source address (`Enate:Inbound:UnknownRecordsPerMinute`), so guessing ids writes little.
    public async Task RejectUnknownAsync(InboundCopy copy, string reason, CancellationToken ct)
    {
        using var lease = _unknown.AttemptAcquire(copy.Source ?? "");
        if (lease.IsAcquired) await RejectAsync(PlatformTenant, copy, StatusCodes.Status404NotFound, reason, ct);
        else Telemetry.RejectedRequests.Add(1, new("status", StatusCodes.Status404NotFound), new("recorded", false));
    }

    private static PartitionedRateLimiter<string> PerMinute(int perMinute) =>
        PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, perMinute),
            TokensPerPeriod = Math.Max(1, perMinute),
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// Starts one run per recipe with the body as input (`copy.Json()`), unless the delivery key was seen before:
    /// then nothing starts and the original runs are returned.
    public async Task<AcceptResult> AcceptAsync(string tenant, InboundCopy copy, string? deliveryKey,
        IReadOnlyList<Recipe> recipes, string requestedBy, CancellationToken ct)
    {
        var input = copy.Json() ?? throw new ArgumentException("Only a JSON body is accepted as a run's input.", nameof(copy));
        // No look-up first: the accepted record carries the delivery key, unique per tenant, so a repeat fails to
        // commit (below). Repeats are rare; a round trip on every delivery is not.
        var inboundId = Guid.CreateVersion7(copy.At);
        var body = Recording.Body(copy.Body, copy.ContentType);
        // The body is stored once, in the inbound record, when that record keeps it whole: the runs read it from there.
        var inputInInbound = body.Text is not null && copy.JsonIsExact;
        var streams = new List<NewStream>();
        var messages = new List<object>();
        await using (var query = store.QuerySession(tenant))
        {
            foreach (var recipe in recipes)
            {
                var (run, message) = await RunStarter.PrepareAsync(query,
                    new RunRequest(recipe, input, copy.Trigger, null, requestedBy, InboundId: inboundId, InputInInbound: inputInInbound),
                    copy.At, ct);
                streams.Add(run);
                messages.Add(message);
            }
        }
        var runIds = streams.Select(s => s.Id).ToArray();
        var status = runIds.Length > 0 ? StatusCodes.Status202Accepted : StatusCodes.Status200OK;
        var reason = runIds.Length > 0 ? null : "No active recipe matches.";
        streams.Add(new NewStream(typeof(InboundRequest), inboundId,
            [copy.Record(inboundId, Verdicts.Accepted, status, reason, runIds, deliveryKey, body)]));
        try
        {
            // Shares a transaction with concurrent requests (group commit); returns once it is committed.
            await commits.CommitAsync(new RunStart(tenant, streams, [], messages), ct);
            return new AcceptResult(false, runIds, inboundId);
        }
        catch (Exception ex) when (deliveryKey is not null && Deliveries.IsRepeat(ex))
        {
            // A repeat of a delivery already accepted (or the same delivery arriving twice at once).
            await using var fresh = store.QuerySession(tenant);
            var first = await fresh.Query<InboundRequest>().SingleAsync(r => r.DeliveryKey == deliveryKey, ct);
            return await DuplicateAsync(tenant, copy, first, deliveryKey, ct);
        }
    }

    private async Task<AcceptResult> DuplicateAsync(string tenant, InboundCopy copy, InboundRequest first, string deliveryKey,
        CancellationToken ct)
    {
        await using var session = store.LightweightSession(tenant);
        var id = Guid.CreateVersion7(copy.At);
        session.Events.StartStream<InboundRequest>(id,
            copy.Record(id, Verdicts.Duplicate, StatusCodes.Status200OK, $"A repeat of inbound request {first.Id}.", first.RunIds, deliveryKey));
        await session.SaveChangesAsync(ct);
        return new AcceptResult(true, first.RunIds, id);
    }
}
