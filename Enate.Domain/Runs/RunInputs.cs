using System.Text;
using System.Text.Json;
using Enate.Domain.Inbound;
using JasperFx.Events;
using Marten;

namespace Enate.Domain.Runs;

/// Where a run's input is: in its RunRequested, or — for a run started by an inbound request whose body is its
/// input — in that request's recorded body, which is then stored once instead of twice (docs/decisions.md).
public static class RunInputs
{
    /// How a trigger's JSON body is read. Duplicate keys are refused here, so a body taken as a run's input means the
    /// same read from its text as it meant when jsonb stored it (jsonb keeps the last of duplicated keys); a body with
    /// them is still accepted, and its run keeps the input in its own event (InboundCopy.Json).
    public static readonly JsonDocumentOptions Exact = new() { AllowDuplicateProperties = false };

    /// The body as JSON, or null when it is not JSON without duplicate keys.
    public static JsonElement? ParseExact(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, Exact);
            return document.RootElement.Clone();
        }
        // An escape of half a surrogate pair in a member's name fails the duplicate check as an invalid operation.
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// The input a run reads from its inbound request's recorded body.
    public static JsonElement FromBody(RecordedBody body, Guid inboundId) =>
        body.Text is { } text && ParseExact(Encoding.UTF8.GetBytes(text)) is { } input
            ? input
            : throw new InvalidOperationException($"Inbound request {inboundId} holds no JSON body to be a run's input.");

    /// The input of each of these runs, by run id: one query for the inbound records of those that keep none of their own.
    public static async Task<IReadOnlyDictionary<Guid, JsonElement>> OfAsync(IQuerySession session, IReadOnlyCollection<RunRequested> runs,
        CancellationToken ct)
    {
        var bodies = await BodiesAsync(session, runs.Where(r => r.InputInInbound).Select(r => InboundOf(r.RunId, r.InboundId)), ct);
        return runs.ToDictionary(r => r.RunId, r => r.InputInInbound ? FromInbound(bodies, r.RunId, r.InboundId) : r.Input);
    }

    public static async Task<JsonElement> OfAsync(IQuerySession session, RunRequested run, CancellationToken ct) =>
        (await OfAsync(session, [run], ct))[run.RunId];

    /// The input of a run as the engine rebuilt it from its stream.
    public static async Task<JsonElement> OfAsync(IQuerySession session, Run run, CancellationToken ct) =>
        run.InputInInbound ? Of(run, await StreamReads.FirstEventsAsync(session, [InboundOf(run)], ct)) : run.Input;

    /// The input of a run as the engine rebuilt it, given the first event of its inbound request (InboundOf), which the
    /// caller read together with other things; ignored when the run keeps its input itself.
    public static JsonElement Of(Run run, IEnumerable<IEvent> inbound) =>
        run.InputInInbound ? FromInbound(Bodies(inbound), run.Id, run.InboundId) : run.Input;

    /// The inbound request whose recorded body is this run's input (only for a run with InputInInbound).
    public static Guid InboundOf(Run run) => InboundOf(run.Id, run.InboundId);

    /// A RunRequested with its input filled in, as the API shows it.
    public static async Task<RunRequested> WithInputAsync(IQuerySession session, RunRequested run, CancellationToken ct) =>
        run.InputInInbound ? run with { Input = await OfAsync(session, run, ct) } : run;

    /// The recorded bodies of these inbound requests, by request id (each request's stream has one event).
    private static async Task<Dictionary<Guid, RecordedBody>> BodiesAsync(IQuerySession session, IEnumerable<Guid> inboundIds, CancellationToken ct) =>
        Bodies(await StreamReads.FirstEventsAsync(session, inboundIds, ct));

    private static Dictionary<Guid, RecordedBody> Bodies(IEnumerable<IEvent> first) =>
        first.Select(e => e.Data).OfType<InboundRequestRecorded>().ToDictionary(e => e.Id, e => e.Body);

    private static JsonElement FromInbound(Dictionary<Guid, RecordedBody> bodies, Guid runId, Guid? inboundId) =>
        bodies.TryGetValue(InboundOf(runId, inboundId), out var body)
            ? FromBody(body, inboundId!.Value)
            : throw new InvalidOperationException($"Run {runId}'s inbound request {inboundId} is not recorded.");

    private static Guid InboundOf(Guid runId, Guid? inboundId) =>
        inboundId ?? throw new InvalidOperationException($"Run {runId} takes its input from an inbound request but names none.");
}
