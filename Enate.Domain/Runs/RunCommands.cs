namespace Enate.Domain.Runs;

/// Execute the run's next step. Sent by the API with RunRequested, then by the Workers after each
/// step; a retry carries the attempt it was scheduled for, so a stale delivery is recognised.
public sealed record ExecuteRun(Guid RunId, string TenantId, int? Attempt = null);
