using System.Text.Json;
using System.Text.Json.Serialization;

namespace Enate.Domain.Runs;

// The facts of one run. The stream id comes first; every event says who or what caused it and when.

/// A trigger asked for a run of one recipe version with this input. A run whose input is the body of the inbound
/// request that started it (a partner webhook, an Enate webhook or action) does not store the body a second time:
/// `InputInInbound` is set, `Input` is left out, and the input is inbound request `InboundId`'s recorded body, parsed
/// (RunInputs). Its readers ask RunInputs, never `Input` directly. `RecipeSha256` is the SHA-256 of the recipe
/// version's definition, so that the Workers can serve the version from memory without serving a stale one (absent
/// from runs requested before it was recorded: theirs is read from the database).
public sealed record RunRequested(
    Guid RunId,
    string RecipeKey,
    int RecipeVersion,
    string Trigger,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] JsonElement Input,
    string? IdempotencyKey,
    string? WorkItem,
    Guid? ReplayOf,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    Guid? InboundId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool InputInInbound = false,
    string? RecipeSha256 = null);

/// A worker began (or resumed) the run.
public sealed record RunStarted(Guid RunId, int Attempt, string Worker, DateTimeOffset StartedAt);

/// Not written by the engine: a step's first event says it began (its call's OutboundRequestSent, or its
/// StepCompleted, RunFailed, RunSkipped), and that event is committed with it (docs/decisions.md, 68). Read in
/// streams that hold it.
public sealed record StepStarted(Guid RunId, string StepId, string StepType, int Attempt, DateTimeOffset StartedAt);

/// An outbound call as it left: headers redacted, the body kept whole or as size and hash above the threshold.
public sealed record OutboundRequestSent(
    Guid RunId,
    string StepId,
    int Attempt,
    string Method,
    string Url,
    IReadOnlyDictionary<string, string> Headers,
    RecordedBody Body,
    string IdempotencyKey,
    DateTimeOffset SentAt);

public sealed record OutboundResponseReceived(
    Guid RunId,
    string StepId,
    int Attempt,
    int Status,
    IReadOnlyDictionary<string, string> Headers,
    RecordedBody Body,
    double DurationMs,
    DateTimeOffset ReceivedAt);

public sealed record OutboundCallFailed(
    Guid RunId,
    string StepId,
    int Attempt,
    bool Transient,
    int? Status,
    string Reason,
    TimeSpan? RetryAfter,
    DateTimeOffset FailedAt);

/// Not written by the engine: a transform's output is its StepCompleted's (docs/decisions.md, 68). Read in streams
/// that hold it.
public sealed record TransformApplied(Guid RunId, string StepId, JsonElement Output, DateTimeOffset AppliedAt);

/// A step's output, and the step's type as its recipe version names it (absent in streams whose StepStarted says it).
public sealed record StepCompleted(Guid RunId, string StepId, JsonElement Output, DateTimeOffset CompletedAt, string? StepType = null);

public sealed record RetryScheduled(Guid RunId, string StepId, int NextAttempt, DateTimeOffset DueAt, string Reason, DateTimeOffset ScheduledAt);

public sealed record RunSucceeded(Guid RunId, JsonElement Output, DateTimeOffset SucceededAt);

/// A filter said no: the run ends without doing the rest, which is not a failure.
public sealed record RunSkipped(Guid RunId, string StepId, string Reason, DateTimeOffset SkippedAt);

/// A permanent failure: retrying would not help.
public sealed record RunFailed(Guid RunId, string? StepId, string Reason, DateTimeOffset FailedAt);

/// Transient failures outlasted the retry schedule; an operator may replay it.
public sealed record RunDeadLettered(Guid RunId, string StepId, int Attempts, string Reason, DateTimeOffset DeadLetteredAt);

/// A body as recorded: whole when small, else its size and SHA-256 only.
public sealed record RecordedBody(string? ContentType, long Size, string Sha256, string? Text, bool Truncated);

/// The Enate action was told the outcome through its CallBackURL, and Enate accepted it.
public sealed record EnateCallbackSent(Guid RunId, string Outcome, int Status, DateTimeOffset SentAt);

/// The callback could not be delivered (permanently refused, or retries exhausted). Enate will time the action out.
public sealed record EnateCallbackFailed(Guid RunId, string Outcome, string Reason, DateTimeOffset FailedAt);
