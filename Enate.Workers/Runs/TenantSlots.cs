using System.Collections.Concurrent;

namespace Enate.Workers.Runs;

/// Each tenant's share of this replica's run slots (`Enate:Workers:MaxRunsPerTenant`). A tenant whose runs already
/// hold its share — a slow partner, a burst — has its next message put back for a moment (`Wait`) instead of taking
/// another slot, so the other tenants' runs keep theirs.
public sealed class TenantSlots(int perTenant, TimeSpan wait)
{
    private readonly ConcurrentDictionary<string, int> _taken = new();

    public int PerTenant { get; } = perTenant;
    public TimeSpan Wait { get; } = wait;

    /// A slot, to be disposed when the message is handled; null when the tenant holds its share.
    public IDisposable? TryTake(string tenant)
    {
        if (_taken.AddOrUpdate(tenant, 1, (_, n) => n + 1) <= PerTenant) return new Slot(this, tenant);
        Release(tenant);
        return null;
    }

    /// How many slots a tenant holds now.
    public int Taken(string tenant) => _taken.GetValueOrDefault(tenant);

    private void Release(string tenant) => _taken.AddOrUpdate(tenant, 0, (_, n) => n - 1);

    private sealed class Slot(TenantSlots slots, string tenant) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release(tenant);
        }
    }
}
