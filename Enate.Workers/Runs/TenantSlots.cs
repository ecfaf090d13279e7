using System.Collections.Concurrent;

namespace Enate.Workers.Runs;

/// Each tenant's share of this replica's run slots (`Enate:Workers:MaxRunsPerTenant`). A tenant whose runs already
/// hold its share — a slow partner, a burst — waits a few milliseconds for one of them to finish (a burst's runs finish
/// that fast), and past that has its message put back for a moment (`Wait`) instead of taking another slot, so the
/// other tenants' runs keep theirs.
public sealed class TenantSlots(int perTenant, TimeSpan wait)
{
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(50);
    private readonly ConcurrentDictionary<string, int> _taken = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _freed = new();

    public int PerTenant { get; } = perTenant;
    public TimeSpan Wait { get; } = wait;

    /// A slot, to be disposed when the message is handled; null when the tenant holds its share.
    public async Task<IDisposable?> TakeAsync(string tenant, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (_taken.AddOrUpdate(tenant, 1, (_, n) => n + 1) <= PerTenant) return new Slot(this, tenant);
            Release(tenant, signal: false);
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await Freed(tenant).WaitAsync(left, ct)) return null;
        }
    }

    private void Release(string tenant, bool signal = true)
    {
        _taken.AddOrUpdate(tenant, 0, (_, n) => n - 1);
        if (!signal) return;
        try
        {
            // Wakes one waiter, if any; a signal nobody has taken yet is enough for the next one.
            Freed(tenant).Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private SemaphoreSlim Freed(string tenant) => _freed.GetOrAdd(tenant, _ => new SemaphoreSlim(0, 1));

    private sealed class Slot(TenantSlots slots, string tenant) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release(tenant);
        }
    }
}
