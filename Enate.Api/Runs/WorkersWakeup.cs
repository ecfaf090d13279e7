using Enate.Domain.Platform;
using Enate.Domain;
using Npgsql;

namespace Enate.Api.Runs;

/// Wakes the Workers' run-queue listeners after a commit that queued runs, instead of leaving the runs to their next
/// poll (up to a second later, `Enate:Workers:PollEvery`). Sent after the commit, not inside it: PostgreSQL serializes
/// the commits of notifying transactions (a database-wide lock held through the commit's WAL flush), which would stop
/// the group commit's two writers from overlapping their flushes. Wakes that come while one is being sent share the
/// next one. A lost wake loses nothing: the runs are committed, and the listeners still poll. Each database has its
/// own queue and its own wake.
public sealed class WorkersWakeup(TenantDatabases databases, ILogger<WorkersWakeup> logger)
{
    private readonly Dictionary<string, int> _index = databases.All.Select((d, i) => (d.Name, i)).ToDictionary(d => d.Name, d => d.i);
    private readonly int[] _requested = new int[databases.All.Count];
    private int _sending;

    /// Wakes the listeners on the queue of the database that holds the tenant's runs.
    public void Wake(string tenant)
    {
        Interlocked.Exchange(ref _requested[_index[databases.NameOf(tenant)]], 1);
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0) _ = Task.Run(SendAsync);
    }

    private bool Requested()
    {
        for (var i = 0; i < _requested.Length; i++)
            if (Volatile.Read(ref _requested[i]) == 1) return true;
        return false;
    }

    private async Task SendAsync()
    {
        try
        {
            while (Requested())
                for (var i = 0; i < _requested.Length; i++)
                {
                    if (Interlocked.Exchange(ref _requested[i], 0) == 0) continue;
                    try
                    {
                        await using var notify = databases.All[i].Source.CreateCommand(EnateStore.WakeRunQueue);
                        await notify.ExecuteNonQueryAsync();
                    }
                    catch (Exception ex)
                    {
                        // Best effort, whatever went wrong: the runs are committed either way.
                        logger.LogDebug(ex, "Could not wake the Workers; they will find the runs at their next poll");
                    }
                }
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
            // A wake asked for between the last check and now would otherwise wait for the next one.
            if (Requested() && Interlocked.CompareExchange(ref _sending, 1, 0) == 0) _ = Task.Run(SendAsync);
        }
    }
}
