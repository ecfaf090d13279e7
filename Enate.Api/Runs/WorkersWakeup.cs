using Enate.Domain;
using Npgsql;

namespace Enate.Api.Runs;

/// Wakes the Workers' run-queue listeners after a commit that queued runs, instead of leaving the runs to their next
/// poll (up to 100 ms later). Sent after the commit, not inside it: PostgreSQL serializes the commits of notifying
/// transactions (a database-wide lock held through the commit's WAL flush), which would stop the group commit's two
/// writers from overlapping their flushes. Wakes that come while one is being sent share the next one. A lost wake
/// loses nothing: the runs are committed, and the listeners still poll.
public sealed class WorkersWakeup(NpgsqlDataSource dataSource, ILogger<WorkersWakeup> logger)
{
    private int _requested;
    private int _sending;

    public void Wake()
    {
        Interlocked.Exchange(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0) _ = Task.Run(SendAsync);
    }

    private async Task SendAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1)
            {
                try
                {
                    await using var notify = dataSource.CreateCommand(EnateStore.WakeRunQueue);
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
            if (Volatile.Read(ref _requested) == 1 && Interlocked.CompareExchange(ref _sending, 1, 0) == 0) _ = Task.Run(SendAsync);
        }
    }
}
