using Enate.Domain.Platform;
using System.Diagnostics;
using System.Threading.Channels;
using Enate.Domain.Runs;
using Marten;
using Wolverine;
using Enate.Domain;
using Wolverine.Runtime;

namespace Enate.Api.Runs;

/// A new event stream: its aggregate type, id and first events.
public sealed record NewStream(Type Aggregate, Guid Id, object[] Events);

/// What accepting one request writes, under its tenant: new streams (its runs, its inbound record), the
/// documents beside them (idempotency and delivery marks) and the messages that hand the runs to the Workers.
public sealed record RunStart(string TenantId, IReadOnlyList<NewStream> Streams, IReadOnlyList<object> Documents, IReadOnlyList<object> Messages);

/// Group commit: concurrent requests share one transaction instead of paying one commit (and one WAL
/// flush) each. Each request still waits for the commit that holds its run, so a 202 still means
/// "recorded": the promise is unchanged, only the cost of keeping it is shared. While one batch commits,
/// the next requests queue; the writer then takes all that wait (up to a limit) in the next transaction.
/// A batch that fails is retried item by item, so one bad item (a racing duplicate key) fails only itself. A commit
/// whose answer was lost (the connection broke after the server committed) is retried too, and its retry finds its
/// streams already there: it was recorded, and is answered so, never as "nothing was recorded".
public sealed class GroupCommit : IAsyncDisposable
{
    private readonly IWolverineRuntime _runtime;
    private readonly IDocumentStore _store;
    private readonly BulkWriter? _bulk;
    private readonly WorkersWakeup _wakeup;
    private readonly TenantDatabases _databases;
    private readonly Uri _runQueue = QueuedMessage.Queue(EnateStore.RunQueue);
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Task[] _writers;
    private readonly int _maxBatch;

    public GroupCommit(IWolverineRuntime runtime, IDocumentStore store, BulkWriter bulk, WorkersWakeup wakeup, TenantDatabases databases,
        IConfiguration configuration)
    {
        _databases = databases;
        _runtime = runtime;
        _store = store;
        _wakeup = wakeup;
        // Off: the same rows through Marten's unit of work, one statement per row (kept for comparison).
        _bulk = configuration.GetValue("Runs:BulkWrite", true) ? bulk : null;
        _maxBatch = configuration.GetValue("Runs:GroupCommitMaxBatch", 200);
        // Off: one transaction per request (the same writes, for comparison in the benchmark).
        var enabled = configuration.GetValue("Runs:GroupCommit", true);
        // Two writers: one collects the next batch while the other's commit is being flushed to disk.
        _writers = enabled
            ? Enumerable.Range(0, configuration.GetValue("Runs:GroupCommitWriters", 2)).Select(_ => Task.Run(WriteLoopAsync)).ToArray()
            : [];
    }

    /// Returns once the run is committed together with its message to the Workers; throws what its own
    /// commit threw (DocumentAlreadyExistsException for an idempotency key another request took first).
    public Task CommitAsync(RunStart start, CancellationToken ct)
    {
        if (_writers.Length == 0) return CommitAsync([new Pending(start, Activity.Current)]);
        var pending = new Pending(start, Activity.Current);
        if (!_queue.Writer.TryWrite(pending)) throw new InvalidOperationException("The API is shutting down.");
        // A client that gives up does not withdraw its run: it may already be in the transaction.
        return pending.Done.Task.WaitAsync(ct);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            if (batch.Count == 0) continue;
            // A transaction is in one database: tenants placed apart commit apart.
            if (_databases.Several)
                foreach (var group in batch.GroupBy(p => _databases.NameOf(p.Start.TenantId))) await CommitBatchAsync(group.ToList());
            else await CommitBatchAsync(batch);
        }
    }

    private async Task CommitBatchAsync(List<Pending> batch)
    {
        try
        {
            await CommitAsync(batch);
            foreach (var p in batch) p.Done.TrySetResult();
        }
        catch (Exception e) when (batch.Count > 1 || Unclear(e))
        {
            // A refused value may have left its connection unusable for these statements (TenantDatabases.ClearPools).
            if (DatabaseErrors.IsRefusedValue(DatabaseErrors.Of(e))) _databases.ClearPools();
            await Task.WhenAll(batch.Select(CommitAloneAsync));
        }
        catch (Exception ex)
        {
            Failed(batch[0], ex);
        }
    }

    private async Task CommitAloneAsync(Pending pending)
    {
        try
        {
            await CommitAsync([pending]);
            pending.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            Failed(pending, ex);
        }
    }

    /// Answers a request whose commit failed: with the failure, unless its streams were there already.
    private void Failed(Pending pending, Exception exception)
    {
        if (!AlreadyCommitted(exception))
        {
            pending.Done.TrySetException(exception);
            return;
        }
        if (pending.Start.Messages.Count > 0) _wakeup.Wake(pending.Start.TenantId);
        pending.Done.TrySetResult();
    }

    /// Whether a commit failed without the server refusing a statement (the connection broke, a timeout): the server
    /// may have committed it all the same.
    private static bool Unclear(Exception exception) => DatabaseErrors.Of(exception) is not Npgsql.PostgresException;

    /// Whether a commit failed because its streams exist already. Their ids are drawn new for each request, so only an
    /// earlier commit of this same request wrote them: one that went through while its answer was lost.
    private static bool AlreadyCommitted(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation, TableName: "mt_streams" }
                or JasperFx.Events.ExistingStreamIdCollisionException)
                return true;
        return false;
    }

    /// Commits the batch, then wakes the Workers if it handed them runs.
    private async Task CommitAsync(IReadOnlyList<Pending> batch)
    {
        await WriteAsync(batch);
        if (batch.Any(p => p.Start.Messages.Count > 0)) _wakeup.Wake(batch[0].Start.TenantId);
    }

    /// The whole batch in one transaction: its streams, its documents, and its messages to the Workers, written
    /// straight into the Workers' queue table (QueuedMessage): Wolverine's outbox, with its move of each message after
    /// the commit, cost the API and PostgreSQL as much as recording the run itself.
    private async Task WriteAsync(IReadOnlyList<Pending> batch)
    {
        if (_bulk is not null)
        {
            await _bulk.WriteAsync(batch.Select(p => new BulkWriter.Item(p.Start.TenantId, p.Start.Streams, p.Start.Documents,
                p.Start.Messages.SelectMany(m => QueuedMessage.For(_runtime, _runQueue, m, p.Start.TenantId, p.Trace)).ToList(), p.Trace)).ToList());
            return;
        }

        await using var session = _store.LightweightSession(batch[0].Start.TenantId);
        foreach (var (start, trace) in batch.Select(p => (p.Start, p.Trace)))
        {
            var tenant = session.ForTenant(start.TenantId);
            foreach (var stream in start.Streams) tenant.Events.StartStream(stream.Aggregate, stream.Id, stream.Events);
            if (start.Documents.Count > 0) tenant.InsertObjects(start.Documents);
            foreach (var message in start.Messages.SelectMany(m => QueuedMessage.For(_runtime, _runQueue, m, start.TenantId, trace)))
                message.QueueIn(session, EnateStore.RunQueueTable);
        }
        await session.SaveChangesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers);
    }

    private sealed class Pending(RunStart start, Activity? trace)
    {
        public RunStart Start { get; } = start;
        public Activity? Trace { get; } = trace;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
