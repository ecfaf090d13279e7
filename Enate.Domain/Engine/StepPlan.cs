using System.Text.Json.Nodes;

namespace Enate.Domain.Engine;

/// What a step amounts to once its templates are rendered: pure, so the Workers, dry runs and what-ifs share it.
public abstract record StepPlan;

/// The step's result needs no outside call (transform, a filter that passed).
public sealed record OutputPlan(JsonNode? Output) : StepPlan;

/// A filter said no: the run ends as skipped.
public sealed record SkipPlan(string Reason) : StepPlan;

/// An outbound call to make on a connection; the path may be relative to the connection's base URL. A callback (an
/// Enate action's CallBackURL) may also go to the origins the connection lists for callbacks.
public sealed record CallPlan(
    string Connection,
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string? Body,
    string? ContentType,
    bool Callback = false) : StepPlan;
