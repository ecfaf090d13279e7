using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Runs;

namespace Enate.Domain.Engine;

/// A call the engine wants answered: the request as it is recorded (credentials redacted), the plan it was rendered
/// from, and the connection it goes through.
public sealed record CallRequest(OutboundRequestSent Sent, CallPlan Plan, Connection Connection);

/// How a call was answered: the event that records the answer (a response or a failure; none when nothing was sent),
/// what it means to the engine, and the step's output when it succeeded.
public sealed record Answer(object? Recorded, CallOutcome Outcome, JsonElement Output);

/// The engine's one seam to the world outside: the live caller in the Workers, "would send" in a dry run, the
/// recorded answers in a what-if.
public interface IAnswerer
{
    /// The answer to a call, or null when there is none to give (a what-if over a run that never made this call).
    Task<Answer?> AnswerAsync(CallRequest call, CancellationToken ct);
}

/// A dry run: every call succeeds without being sent, with an empty output that says so.
public sealed class WouldSend : IAnswerer
{
    public static readonly WouldSend Instance = new();

    public static readonly JsonElement Output = RunContext.ToElement(
        new JsonObject { ["status"] = null, ["headers"] = new JsonObject(), ["body"] = null, ["dryRun"] = true });

    public Task<Answer?> AnswerAsync(CallRequest call, CancellationToken ct) =>
        Task.FromResult<Answer?>(new Answer(null, new CallOutcome(200, null, null), Output));
}

/// A what-if: each call is answered as the recorded run's same step and attempt was — its response or failure, and
/// the output the step then had. A call the recorded run never made has no answer.
public sealed class RecordedAnswers : IAnswerer
{
    private readonly Dictionary<(string Step, int Attempt), object> _answers = [];
    private readonly Dictionary<string, JsonElement> _outputs = [];

    public RecordedAnswers(IEnumerable<object> events)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case OutboundResponseReceived received: _answers[(received.StepId, received.Attempt)] = received; break;
                case OutboundCallFailed failed: _answers[(failed.StepId, failed.Attempt)] = failed; break;
                case StepCompleted completed: _outputs[completed.StepId] = completed.Output; break;
            }
        }
    }

    public Task<Answer?> AnswerAsync(CallRequest call, CancellationToken ct)
    {
        var (step, attempt) = (call.Sent.StepId, call.Sent.Attempt);
        Answer? answer = _answers.GetValueOrDefault((step, attempt)) switch
        {
            OutboundResponseReceived r when r.Status is >= 200 and < 300 =>
                _outputs.TryGetValue(step, out var output) ? new Answer(r, new CallOutcome(r.Status, null, null), output) : null,
            OutboundResponseReceived r => new Answer(r, new CallOutcome(r.Status, null, null), default),
            OutboundCallFailed f => new Answer(f, new CallOutcome(f.Status, f.RetryAfter, f.Reason, Permanent: !f.Transient), default),
            _ => null,
        };
        return Task.FromResult(answer);
    }
}
