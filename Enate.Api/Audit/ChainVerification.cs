using Enate.Domain.Platform;
using Enate.Domain;
using Enate.Domain.Audit;
using Npgsql;

namespace Enate.Api.Audit;

/// The first place where the record stops being what was chained or witnessed. `Checkpoint` names the witnessed
/// checkpoint involved, when one is.
public sealed record Mismatch(long Seq, string? StreamId, long? Version, string Reason, string Detail, long? Checkpoint = null);

/// What the witness holds for the tenant, as far as verification read it.
public sealed record WitnessView(string? Where, long Checkpoints, long? LastNumber, long? LastSeq, string? LastTime);

public sealed record Verification(long Checked, bool Ok, long Unchained, string? HeadHash, Mismatch? FirstMismatch, WitnessView Witness);

/// Recomputes a tenant's hash chain from the event store, row by row in sequence order (memory does not grow with the
/// chain), and walks the witness's checkpoints beside it: each must be signed by a platform key, follow the previous
/// one, and name a head the recomputed chain passes through. A chain rewritten consistently in the database — an
/// event changed and every hash after it recomputed — agrees with itself but not with the witness: `rewritten`.
public sealed class ChainVerification(TenantDatabases databases, AuditProof proof)
{
    public async Task<Verification> VerifyAsync(string tenant, long low, long high, bool fromStart, CancellationToken ct)
    {
        var database = databases.For(tenant);
        await AuditChain.EnsureTableAsync(database, ct);
        long chainHead;
        await using (var last = database.CreateCommand($"select coalesce(max(seq_id), 0) from {AuditChain.Table}"))
            chainHead = (long)(await last.ExecuteScalarAsync(ct))!;

        long checkedCount = 0, unchained = 0, lastSeq = 0;
        string? head = null;
        await using var witnessed = new Witnessed(proof, tenant, low, high, ct);
        if (await witnessed.StartAsync(ct) is { } early) return Result(false, early);

        await using var command = database.CreateCommand(
            $"with e as (select * from {EnateStore.Schema}.mt_events where tenant_id = @tenant and seq_id between @low and @high), " +
            $"c as (select * from {AuditChain.Table} where tenant_id = @tenant and seq_id between @low and @high) " +
            $"select c.seq_id, c.hash, c.previous, {AuditChain.EventColumns} from c full outer join e on e.seq_id = c.seq_id " +
            "order by coalesce(c.seq_id, e.seq_id)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("low", low);
        command.Parameters.AddWithValue("high", high);
        await using var reader = await command.ExecuteReaderAsync(ct);

        byte[]? expected = fromStart ? AuditChain.Genesis : null;
        while (await reader.ReadAsync(ct))
        {
            var chained = !reader.IsDBNull(0);
            var present = !reader.IsDBNull(3);
            if (!chained)
            {
                // Newer than anything chained yet: the chainer will get to it. Older: it was put there afterwards.
                var e = AuditChain.Event.Read(reader, 3);
                unchained++;
                if (e.Seq > chainHead) continue;
                return Fail(new Mismatch(e.Seq, e.StreamId, e.Version, "inserted", "An event that was never chained sits among chained ones."));
            }

            var seq = reader.GetInt64(0);
            var hash = (byte[])reader[1];
            var previous = (byte[])reader[2];
            checkedCount++;
            if (!present)
                return Fail(new Mismatch(seq, null, null, "deleted", "The chain holds this sequence number; the event store no longer does."));
            var ev = AuditChain.Event.Read(reader, 3);
            expected ??= previous;
            if (!previous.AsSpan().SequenceEqual(expected))
                return Fail(new Mismatch(seq, ev.StreamId, ev.Version, "broken-link", "The chain itself was edited here: its link to the previous hash is wrong."));
            if (!AuditChain.Hash(expected, ev).AsSpan().SequenceEqual(hash))
                return Fail(new Mismatch(seq, ev.StreamId, ev.Version, "altered",
                    "The event at this position is not the one that was chained: its content, type, stream, version, time or position changed."));
            expected = hash;
            head = Convert.ToHexStringLower(hash);
            lastSeq = seq;
            if (await witnessed.PassAsync(seq, head, ct) is { } contradicted) return Fail(contradicted);
        }
        if (await witnessed.EndAsync(lastSeq, ct) is { } beyond) return Fail(beyond);
        return Result(true, null);

        Verification Fail(Mismatch mismatch) => Result(false, mismatch);
        Verification Result(bool ok, Mismatch? mismatch) => new(checkedCount, ok, unchained, head, mismatch, witnessed.View);
    }

    /// The witness's checkpoints of one tenant, read in order beside the chain.
    private sealed class Witnessed(AuditProof proof, string tenant, long low, long high, CancellationToken ct) : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<Checkpoint>? _checkpoints = proof.Witness?.ReadAsync(tenant, ct).GetAsyncEnumerator(ct);
        private Checkpoint? _next;
        private Checkpoint? _last;
        private long _count;

        public WitnessView View => new(proof.Witness?.Describe, _count, _last?.Number, _last?.Seq, _last?.Time);

        /// Reads up to the first checkpoint in the range, checking those before it follow one another.
        public async Task<Mismatch?> StartAsync(CancellationToken token)
        {
            while (await AdvanceAsync(token))
            {
                if (Check(_next!) is { } problem) return problem;
                if (_next!.Seq >= low) return null;
            }
            return null;
        }

        /// The chain passed `seq` with this head: every checkpoint at or before it must name a head the chain holds.
        public async Task<Mismatch?> PassAsync(long seq, string head, CancellationToken token)
        {
            while (_next is { } next && next.Seq <= seq && next.Seq <= high)
            {
                if (next.Seq < seq || next.HeadHash != head)
                    return new Mismatch(next.Seq, null, null, "rewritten",
                        $"The chain no longer passes through witnessed checkpoint {next.Number} (seq {next.Seq}, {next.Time}, head {next.HeadHash}): " +
                        "the record was changed after that checkpoint was signed, and its hashes recomputed.", next.Number);
                if (await AdvanceAsync(token) && Check(_next!) is { } problem) return problem;
            }
            return null;
        }

        /// After the chain: a checkpoint in the range it never reached means it was cut short; the checkpoints after
        /// the range must still follow one another.
        public async Task<Mismatch?> EndAsync(long lastSeq, CancellationToken token)
        {
            if (_next is { } next && next.Seq <= high && next.Seq > lastSeq)
                return new Mismatch(next.Seq, null, null, "rewritten",
                    $"The chain ends at seq {lastSeq}, before witnessed checkpoint {next.Number} (seq {next.Seq}, {next.Time}): events were removed from its end.",
                    next.Number);
            while (await AdvanceAsync(token))
                if (Check(_next!) is { } problem) return problem;
            return null;
        }

        /// Moves to the next checkpoint; false at the end.
        private async Task<bool> AdvanceAsync(CancellationToken token)
        {
            if (_next is not null) _last = _next;
            if (_checkpoints is null || !await _checkpoints.MoveNextAsync())
            {
                _next = null;
                return false;
            }
            _next = _checkpoints.Current;
            _count++;
            return true;
        }

        /// A checkpoint must follow the one before it, and (in the range) be signed by one of the platform's keys.
        private Mismatch? Check(Checkpoint checkpoint)
        {
            var expectedNumber = (_last?.Number ?? 0) + 1;
            if (checkpoint.Number != expectedNumber || checkpoint.Previous != (_last?.Hash ?? Checkpoint.First))
                return new Mismatch(checkpoint.Seq, null, null, "checkpoint-missing",
                    $"Witnessed checkpoint {checkpoint.Number} does not follow checkpoint {expectedNumber - 1}: one was removed from the witness.",
                    checkpoint.Number);
            if (checkpoint.Seq >= low && checkpoint.Seq <= high && !AuditSigner.Verifies(proof.Keys, checkpoint))
                return new Mismatch(checkpoint.Seq, null, null, "forged-checkpoint",
                    $"Witnessed checkpoint {checkpoint.Number} is not signed by any of the platform's keys (key {checkpoint.KeyId}).", checkpoint.Number);
            return null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_checkpoints is not null) await _checkpoints.DisposeAsync();
        }
    }
}
