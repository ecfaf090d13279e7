using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;

namespace Enate.Domain.Replays;

/// A past run as recorded: what it was given, how it ended and its events in order.
public sealed record RecordedRun(Guid RunId, int RecordedVersion, string RecordedOutcome, JsonElement Input, JsonElement? Output,
    IReadOnlyList<object> Events);

public sealed record WhatIfRequest(string Method, string Url, JsonNode? Body);

/// Which past runs of the recipe to compare: requested in a time range, newest first, at most `Limit`.
public sealed record WhatIfFilter(DateTimeOffset? From, DateTimeOffset? To, int? Limit);

public sealed record WhatIfSummary(int Compared, int Changed, int Unchanged, int CallsChanged, int CallsNew, int CallsNotSent,
    IReadOnlyDictionary<string, int> Outcomes, IReadOnlyDictionary<string, int> ChangedPaths);

public sealed record WhatIfResult(string Key, int Version, WhatIfSummary Summary, IReadOnlyList<WhatIfRun> Runs);

/// One outbound call compared: `same`, `changed`, `new` (the recorded run did not make it) or `notSent`
/// (the recorded run made it, this version would not). `changed` lists which of method, url, body differ.
public sealed record WhatIfCall(string StepId, string Status, WhatIfRequest? Recorded, WhatIfRequest? WouldSend,
    IReadOnlyList<string> Changed, IReadOnlyList<JsonChange> Diff, string? Note);

/// What a version would have done with a recorded run. Outcome: succeeded, skipped, failed, deadLettered, or
/// unrecorded when the version makes a call whose answer was never recorded, so nothing after it can be known.
public sealed record WhatIfRun(Guid RunId, int RecordedVersion, string RecordedOutcome, string Outcome, string? Error, bool Changed,
    IReadOnlyList<WhatIfCall> Outbound, IReadOnlyList<JsonChange> OutputDiff);

/// Runs a recipe version over a recorded run through the engine: the recorded input, and for each call the partner's
/// recorded answer to the same step and attempt instead of a real call (RecordedAnswers). No call is made and nothing
/// is recorded; the outcome is what the Workers would decide.
public static class WhatIf
{
    public const string Trigger = "what-if";
    public const string Unrecorded = "unrecorded";
    public const string Same = "same";
    public const string ChangedCall = "changed";
    public const string New = "new";
    public const string NotSent = "notSent";

    /// These past runs through the version, in the order given: their events in one round trip, then their inputs.
    public static async Task<List<WhatIfRun>> CompareAsync(IQuerySession session, RunEngine engine, RecipeVersion target,
        IReadOnlyList<RunSummary> summaries, DateTimeOffset now, CancellationToken ct)
    {
        var connections = (await session.Query<Connection>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var streams = await StreamReads.StreamsAsync(session, summaries.Select(s => s.Id), ct);
        var recordedEvents = summaries.Select(s => streams[s.Id].Select(e => e.Data).ToList()).ToList();
        var inputs = await RunInputs.OfAsync(session, recordedEvents.Select(events => events.OfType<RunRequested>().First()).ToList(), ct);
        var runs = new List<WhatIfRun>();
        foreach (var (summary, events) in summaries.Zip(recordedEvents))
            runs.Add(await CompareAsync(engine,
                new RecordedRun(summary.Id, summary.RecipeVersion, summary.Status, inputs[summary.Id], summary.Output, events),
                target, connections, session.TenantId, now, ct));
        return runs;
    }

    /// The one-line answer to "what does this version change?": counts, outcomes, and which body fields change in how many calls.
    public static WhatIfSummary Summarize(IReadOnlyList<WhatIfRun> runs)
    {
        var calls = runs.SelectMany(r => r.Outbound).ToList();
        var paths = calls.SelectMany(c => c.Diff.Select(d => $"{c.StepId}:{d.Path}").Distinct())
            .GroupBy(p => p).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count());
        return new WhatIfSummary(
            runs.Count,
            runs.Count(r => r.Changed),
            runs.Count(r => !r.Changed),
            calls.Count(c => c.Status == ChangedCall),
            calls.Count(c => c.Status == New),
            calls.Count(c => c.Status == NotSent),
            runs.GroupBy(r => r.Outcome).ToDictionary(g => g.Key, g => g.Count()),
            paths);
    }

    public static async Task<WhatIfRun> CompareAsync(RunEngine engine, RecordedRun recorded, RecipeVersion target,
        IReadOnlyDictionary<string, Connection> connections, string tenantId, DateTimeOffset now, CancellationToken ct)
    {
        var run = Run.Create(new RunRequested(recorded.RunId, target.Key, target.Version, Trigger, recorded.Input, null, null, null, Trigger, now));
        var scope = new RunScope(tenantId, target.Definition, recorded.Input,
            (name, _) => ValueTask.FromResult(connections.GetValueOrDefault(name)));
        var pass = await engine.SimulateAsync(run, scope, new RecordedAnswers(recorded.Events), ct);

        var (outcome, error) = pass.Next is Next.Halted halted
            ? (Unrecorded, halted.Reason)
            : (run.Status, pass.Ending is RunSkipped skipped ? skipped.Reason : run.Reason);

        // The last attempt of each step is the one whose answer the run went on with.
        var before = LastRequests(recorded.Events);
        var after = LastRequests(pass.Events);
        var calls = after.Select(would => CompareCall(would.Key, before.GetValueOrDefault(would.Key), would.Value)).ToList();
        calls.AddRange(before.Where(sent => !after.ContainsKey(sent.Key)).Select(sent =>
            new WhatIfCall(sent.Key, NotSent, View(sent.Value), null, [], [], "The recorded run made this call; this version would not.")));

        var outputDiff = outcome == RunStatus.Succeeded && recorded.RecordedOutcome == RunStatus.Succeeded && recorded.Output is { } recordedOutput
            ? JsonDiff.Compare(Node(recordedOutput), run.LastOutput is { } last ? Node(last) : null)
            : [];
        var changed = outcome != recorded.RecordedOutcome || outputDiff.Count > 0 || calls.Any(c => c.Status != Same);
        return new WhatIfRun(recorded.RunId, recorded.RecordedVersion, recorded.RecordedOutcome, outcome, error, changed, calls, outputDiff);
    }

    private static Dictionary<string, OutboundRequestSent> LastRequests(IEnumerable<object> events)
    {
        var requests = new Dictionary<string, OutboundRequestSent>();
        foreach (var sent in events.OfType<OutboundRequestSent>().Where(s => s.StepId != Run.CallbackStep)) requests[sent.StepId] = sent;
        return requests;
    }

    private static WhatIfCall CompareCall(string stepId, OutboundRequestSent? recorded, OutboundRequestSent would)
    {
        var wouldView = View(would);
        if (recorded is null) return new WhatIfCall(stepId, New, null, wouldView, ["method", "url", "body"], [], "The recorded run did not make this call.");

        var changed = new List<string>();
        if (!string.Equals(recorded.Method, would.Method, StringComparison.OrdinalIgnoreCase)) changed.Add("method");
        if (recorded.Url != would.Url) changed.Add("url");
        List<JsonChange> diff;
        string? note = null;
        if (recorded.Body.Truncated || would.Body.Truncated)
        {
            // Only the size and hash of a large body were kept: say whether it is the same, not how it differs.
            diff = recorded.Body.Sha256 == would.Body.Sha256 ? [] : [new JsonChange("", JsonDiff.Changed, null, null)];
            note = $"The recorded body ({recorded.Body.Size} bytes) was kept as its SHA-256 only; compared by hash.";
        }
        else
        {
            diff = JsonDiff.CompareBodies(Text(recorded.Body), Text(would.Body));
        }
        if (diff.Count > 0) changed.Add("body");
        return new WhatIfCall(stepId, changed.Count == 0 ? Same : ChangedCall, View(recorded), wouldView, changed, diff, note);
    }

    private static string? Text(RecordedBody body) => body.Size == 0 && body.Text is "" or null ? null : body.Text;

    private static WhatIfRequest View(OutboundRequestSent sent) =>
        new(sent.Method, sent.Url, sent.Body.Truncated ? null : Body(Text(sent.Body)));

    private static JsonNode? Body(string? text) =>
        text is null ? null : JsonDiff.TryParse(text, out var node) ? node : JsonValue.Create(text);

    private static JsonNode? Node(JsonElement element) => Platform.JsonText.Node(element);
}
