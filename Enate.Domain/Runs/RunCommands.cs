namespace Enate.Domain.Runs;

/// Sent by the API in the same transaction as RunRequested: a worker executes the run.
public sealed record ExecuteRun(Guid RunId, string TenantId);
