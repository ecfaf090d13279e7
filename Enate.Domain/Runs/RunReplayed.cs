namespace Enate.Domain.Runs;

/// Recorded on the OLD run's stream when someone replays it: the new run, the version it runs and why.
/// The new run's RunRequested carries ReplayOf, so both streams hold the link.
public sealed record RunReplayed(
    Guid RunId,
    Guid NewRunId,
    int RecipeVersion,
    string Reason,
    string RequestedBy,
    DateTimeOffset At,
    Guid? BulkReplayId = null);
