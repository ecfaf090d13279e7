using System.Collections.Concurrent;

namespace Enate.Api.Platform;

/// Values read on (nearly) every request and changed rarely — a trigger's recipe, a hook's secrets, an API key —
/// kept in memory so a burst of requests does not read the same row thousands of times.
///
/// A value is at most `maxAge` old when it is used:
/// - younger than half of it, it is used as it is;
/// - older, the first caller starts one reload and every caller keeps the value it has until the reload lands
///   (no caller waits for it, and a burst never reloads the same key many times at once);
/// - at `maxAge` or older, or never read, callers wait for the reload — one shared read per key.
/// `Forget` drops a key at once: the process that changes a value never uses the old one again.
public sealed class FreshCache<TKey, TValue>(TimeSpan maxAge, TimeProvider clock, int capacity = 10_000) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries = new();

    public async ValueTask<TValue> GetAsync(TKey key, Func<TKey, Task<TValue>> load, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        var (value, readAt, hasValue) = entry.Snapshot();
        if (hasValue && now - readAt < maxAge / 2) return value!;
        var loading = entry.Reload(key, load, clock);
        if (hasValue && now - readAt < maxAge) return value!;
        if (_entries.Count > capacity) _entries.Clear();
        return await loading.WaitAsync(ct);
    }

    public void Forget(TKey key) => _entries.TryRemove(key, out _);

    /// Whether a value for the key is held, of any age: using it costs no read now.
    public bool Holds(TKey key) => _entries.TryGetValue(key, out var entry) && entry.Snapshot().HasValue;

    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private TValue? _value;
        private DateTimeOffset _readAt;
        private bool _hasValue;
        private Task<TValue>? _loading;

        public (TValue? Value, DateTimeOffset ReadAt, bool HasValue) Snapshot()
        {
            lock (_lock) return (_value, _readAt, _hasValue);
        }

        /// The reload in progress, or a new one. It runs apart from any caller's cancellation: other callers share it.
        public Task<TValue> Reload(TKey key, Func<TKey, Task<TValue>> load, TimeProvider clock)
        {
            lock (_lock)
            {
                return _loading ??= Task.Run(async () =>
                {
                    var startedAt = clock.GetUtcNow();
                    try
                    {
                        var value = await load(key);
                        lock (_lock) (_value, _readAt, _hasValue) = (value, startedAt, true);
                        return value;
                    }
                    finally
                    {
                        lock (_lock) _loading = null;
                    }
                });
            }
        }
    }
}
