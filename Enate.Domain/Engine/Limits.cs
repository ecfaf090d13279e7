using Enate.Domain.Transforms;
using Microsoft.Extensions.Configuration;

namespace Enate.Domain.Engine;

/// What one run may do (configuration `Enate:Limits`). The Workers, dry runs and what-ifs use the same limits, so a
/// recipe that passes a dry run is not refused by the Workers.
public sealed record Limits
{
    public TransformLimits Transforms { get; init; } = TransformLimits.Default;
    /// Bytes of JSON one step's output may hold (it is recorded in the run's events).
    public int MaxStepOutputBytes { get; init; } = 16 * 1024 * 1024;
    /// Bytes of a partner's response body read before the call fails.
    public int MaxResponseBytes { get; init; } = 10 * 1024 * 1024;
    /// Bytes of an OAuth token endpoint's answer read before the call fails.
    public int MaxTokenResponseBytes { get; init; } = 64 * 1024;

    public static Limits From(IConfiguration configuration) => configuration.GetSection("Enate:Limits").Get<Limits>() ?? new Limits();
}
