using System.Collections.Concurrent;

namespace Enate.Simulators.Common;

/// The first successful answer to an Idempotency-Key, replayed to every later request with that key.
public sealed record StoredResponse(int Status, string? ContentType, string? Location, byte[] Body);

/// Counts side effects and attempts by Idempotency-Key; a doubled side effect shows as 2.
public sealed class EffectLedger
{
    public const string NoKey = "(none)";

    private readonly ConcurrentDictionary<string, int> _applied = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private readonly ConcurrentDictionary<string, StoredResponse> _responses = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new();

    public void CountAttempt(string? key) => _attempts.AddOrUpdate(key ?? NoKey, 1, (_, n) => n + 1);

    /// Serialises requests with the same key: a concurrent duplicate waits and then replays.
    public SemaphoreSlim GateFor(string key) => _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));

    public StoredResponse? Replay(string key) => _responses.GetValueOrDefault(key);

    public void Applied(string? key, StoredResponse response)
    {
        _applied.AddOrUpdate(key ?? NoKey, 1, (_, n) => n + 1);
        if (key is not null) _responses.TryAdd(key, response);
    }

    public object Snapshot() => new
    {
        byKey = new SortedDictionary<string, int>(_applied, StringComparer.Ordinal),
        attemptsByKey = new SortedDictionary<string, int>(_attempts, StringComparer.Ordinal),
    };

    public void Clear()
    {
        _applied.Clear();
        _attempts.Clear();
        _responses.Clear();
    }
}
