namespace Enate.Domain.Runs;

/// Execute the run's first step: sent by the API with RunRequested, across processes. The API also says what it knows
/// the run will need: its recipe version's id (`key:version`) and the inbound record that holds its input (for a run
/// whose input is there), so the Workers read the run and those in one round trip. The run, once read, must say the
/// same, or they are read again from what it says.
public sealed record ExecuteRun(Guid RunId, string TenantId, string? Recipe = null, Guid? Inbound = null);

/// Execute the first step of a run that a bulk replay started: what ExecuteRun does, from the replay queue, so a bulk
/// job's runs take the Workers' spare capacity and never the place of a live run. Like ExecuteRun, it names the recipe
/// version the run needs (a replay keeps its own copy of the input).
public sealed record ReplayRun(Guid RunId, string TenantId, string? Recipe = null);

/// Execute the run's next step: sent by the Workers to themselves after a step or as a scheduled retry,
/// which carries the attempt it was scheduled for, so a stale delivery is recognised.
public sealed record ContinueRun(Guid RunId, string TenantId, int? Attempt = null);

/// Call the Enate action back with the run's outcome (recipes with callback mode callEnate); a scheduled retry
/// carries the attempt it was scheduled for.
public sealed record SendEnateCallback(Guid RunId, string TenantId, int Attempt = 1);
