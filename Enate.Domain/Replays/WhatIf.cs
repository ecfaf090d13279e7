using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Steps;
using Enate.Domain.Transforms;

namespace Enate.Domain.Replays;

/// A past run as recorded: what it was given, how it ended and its events in order.
public sealed record RecordedRun(Guid RunId, int RecordedVersion, string RecordedOutcome, JsonElement Input, JsonElement? Output,
    IReadOnlyList<object> Events);

public sealed record WhatIfRequest(string Method, string Url, JsonNode? Body);

/// One outbound call compared: `same`, `changed`, `new` (the recorded run did not make it) or `notSent`
/// (the recorded run made it, this version would not). `changed` lists which of method, url, body differ.
public sealed record WhatIfCall(string StepId, string Status, WhatIfRequest? Recorded, WhatIfRequest? WouldSend,
    IReadOnlyList<string> Changed, IReadOnlyList<JsonChange> Diff, string? Note);

/// What a version would have done with a recorded run. Outcome: succeeded, skipped, failed, or unrecorded
/// when the version calls a step whose answer was never recorded, so nothing after it can be known.
public sealed record WhatIfRun(Guid RunId, int RecordedVersion, string RecordedOutcome, string Outcome, string? Error, bool Changed,
    IReadOnlyList<WhatIfCall> Outbound, IReadOnlyList<JsonChange> OutputDiff);

/// Re-executes a recipe version over a recorded run: the recorded input, and for each call the partner's
/// recorded answer to that step instead of a real call. Pure: no call is made and nothing is recorded.
public static class WhatIf
{
    public const string Unrecorded = "unrecorded";
    public const string Same = "same";
    public const string ChangedCall = "changed";
    public const string New = "new";
    public const string NotSent = "notSent";

    public static WhatIfRun Compare(RecordedRun run, RecipeVersion target, IReadOnlyDictionary<string, Connection> connections,
        string tenantId, DateTimeOffset now)
    {
        // The last attempt of each step is the one whose answer the run went on with.
        var requests = new Dictionary<string, OutboundRequestSent>();
        var answers = new Dictionary<string, object>();
        var outputs = new Dictionary<string, JsonElement>();
        foreach (var e in run.Events)
        {
            switch (e)
            {
                case OutboundRequestSent sent: requests[sent.StepId] = sent; break;
                case OutboundResponseReceived received: answers[received.StepId] = received; break;
                case OutboundCallFailed failed: answers[failed.StepId] = failed; break;
                case StepCompleted completed: outputs[completed.StepId] = completed.Output; break;
            }
        }

        var completedSteps = new Dictionary<string, JsonElement>();
        var calls = new List<WhatIfCall>();
        var outcome = RunStatus.Succeeded;
        string? error = null;
        JsonElement? last = null;
        foreach (var step in target.Definition.Steps)
        {
            var context = RunContext.Build(run.RunId, tenantId, target.Key, target.Version, run.Input, completedSteps);
            StepPlan plan;
            try
            {
                plan = StepInterpreter.Plan(step, context);
            }
            catch (Exception ex) when (ex is TransformException or InvalidOperationException or FormatException or ArgumentException or JsonException)
            {
                (outcome, error) = (RunStatus.Failed, $"Step '{step.Id}': {ex.Message}");
                break;
            }

            if (plan is SkipPlan skip)
            {
                (outcome, error) = (RunStatus.Skipped, skip.Reason);
                break;
            }
            if (plan is OutputPlan output)
            {
                last = completedSteps[step.Id] = RunContext.ToElement(output.Output);
                continue;
            }

            var call = (CallPlan)plan;
            if (!connections.TryGetValue(call.Connection, out var connection))
            {
                (outcome, error) = (RunStatus.Failed, $"Step '{step.Id}': connection '{call.Connection}' does not exist.");
                break;
            }
            var url = OutboundRequests.ResolveUrl(connection, call.Path).ToString();
            calls.Add(CompareCall(step.Id, requests.GetValueOrDefault(step.Id), new WouldSend(call.Method, url, call.Body)));

            // The partner's answer as it was recorded, in place of a call.
            if (outputs.TryGetValue(step.Id, out var answered))
            {
                last = completedSteps[step.Id] = answered;
                continue;
            }
            (outcome, error) = answers.GetValueOrDefault(step.Id) switch
            {
                OutboundResponseReceived r => (RunStatus.Failed, $"Step '{step.Id}': the partner's recorded answer was {r.Status}."),
                OutboundCallFailed f => (RunStatus.Failed, $"Step '{step.Id}': the recorded call failed: {f.Reason}"),
                _ => (Unrecorded, $"Step '{step.Id}': no answer to this call was recorded, so what follows cannot be known."),
            };
            break;
        }

        foreach (var (stepId, sent) in requests)
        {
            if (calls.Any(c => c.StepId == stepId)) continue;
            calls.Add(new WhatIfCall(stepId, NotSent, View(sent), null, [], [], "The recorded run made this call; this version would not."));
        }

        var outputDiff = outcome == RunStatus.Succeeded && run.RecordedOutcome == RunStatus.Succeeded && run.Output is { } recordedOutput
            ? JsonDiff.Compare(Node(recordedOutput), last is { } l ? Node(l) : null)
            : [];
        var changed = outcome != run.RecordedOutcome || outputDiff.Count > 0 || calls.Any(c => c.Status != Same);
        return new WhatIfRun(run.RunId, run.RecordedVersion, run.RecordedOutcome, outcome, error, changed, calls, outputDiff);
    }

    private sealed record WouldSend(string Method, string Url, string? Body);

    private static WhatIfCall CompareCall(string stepId, OutboundRequestSent? recorded, WouldSend would)
    {
        var wouldView = new WhatIfRequest(would.Method, would.Url, Body(would.Body));
        if (recorded is null) return new WhatIfCall(stepId, New, null, wouldView, ["method", "url", "body"], [], "The recorded run did not make this call.");

        var changed = new List<string>();
        if (!string.Equals(recorded.Method, would.Method, StringComparison.OrdinalIgnoreCase)) changed.Add("method");
        if (recorded.Url != would.Url) changed.Add("url");
        List<JsonChange> diff;
        string? note = null;
        if (recorded.Body.Truncated)
        {
            // Only the size and hash of a large body were kept: say whether it is the same, not how it differs.
            var same = recorded.Body.Sha256 == Recording.Body(would.Body, null).Sha256;
            diff = same ? [] : [new JsonChange("", JsonDiff.Changed, null, null)];
            note = $"The recorded body ({recorded.Body.Size} bytes) was kept as its SHA-256 only; compared by hash.";
        }
        else
        {
            var recordedText = recorded.Body.Size == 0 && recorded.Body.Text is "" ? null : recorded.Body.Text;
            diff = JsonDiff.CompareBodies(recordedText, would.Body);
        }
        if (diff.Count > 0) changed.Add("body");
        return new WhatIfCall(stepId, changed.Count == 0 ? Same : ChangedCall, View(recorded), wouldView, changed, diff, note);
    }

    private static WhatIfRequest View(OutboundRequestSent sent) =>
        new(sent.Method, sent.Url, sent.Body.Truncated ? null : Body(sent.Body.Size == 0 ? null : sent.Body.Text));

    private static JsonNode? Body(string? text) =>
        text is null ? null : JsonDiff.TryParse(text, out var node) ? node : JsonValue.Create(text);

    private static JsonNode? Node(JsonElement element) => JsonNode.Parse(element.GetRawText());
}
