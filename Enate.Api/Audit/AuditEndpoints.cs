using System.Security.Claims;
using System.Text.Json;
using Enate.Api.Security;
using Enate.Domain;
using Enate.Domain.Audit;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace Enate.Api.Audit;

public sealed record Mismatch(long Seq, string? StreamId, long? Version, string Reason, string Detail);

public sealed record Verification(long Checked, bool Ok, long Unchained, string? HeadHash, Mismatch? FirstMismatch);

public static class AuditEndpoints
{
    /// Recomputes the caller's tenant's hash chain from the event store and reports the first place where the
    /// events no longer match what was chained: an altered, deleted, inserted or moved event.
    [WolverineGet("/api/v1/audit/verify", OperationId = "VerifyAudit")]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    public static async Task<IResult> Verify(ClaimsPrincipal user, NpgsqlDataSource database, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        await AuditChain.EnsureTableAsync(database, ct);
        var tenant = user.Tenant();
        var (low, high) = await BoundsAsync(database, tenant, from, to, ct);
        long chainHead;
        await using (var last = database.CreateCommand($"select coalesce(max(seq_id), 0) from {AuditChain.Table}"))
        {
            chainHead = (long)(await last.ExecuteScalarAsync(ct))!;
        }
        await using var command = database.CreateCommand(
            $"with e as (select * from {EnateStore.Schema}.mt_events where tenant_id = @tenant and seq_id between @low and @high), " +
            $"c as (select * from {AuditChain.Table} where tenant_id = @tenant and seq_id between @low and @high) " +
            $"select c.seq_id, c.hash, c.previous, {AuditChain.EventColumns} from c full outer join e on e.seq_id = c.seq_id " +
            "order by coalesce(c.seq_id, e.seq_id)");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("low", low);
        command.Parameters.AddWithValue("high", high);
        await using var reader = await command.ExecuteReaderAsync(ct);

        long checkedCount = 0, unchained = 0;
        byte[]? expected = from is null ? AuditChain.Genesis : null;
        string? head = null;
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
        }
        return Results.Ok(new Verification(checkedCount, true, unchained, head, null));

        IResult Fail(Mismatch mismatch) => Results.Ok(new Verification(checkedCount, false, unchained, head, mismatch));
    }

    /// The caller's tenant's chained events as NDJSON, one event a line with its hashes, streamed from the
    /// database as it is read (constant memory however long the range). docs/audit.md explains how to verify it.
    [WolverineGet("/api/v1/audit/export", OperationId = "ExportAudit")]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    public static async Task Export(HttpContext http, ClaimsPrincipal user, NpgsqlDataSource database, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        await AuditChain.EnsureTableAsync(database, ct);
        var tenant = user.Tenant();
        var (low, high) = await BoundsAsync(database, tenant, from, to, ct);
        http.Response.ContentType = "application/x-ndjson";
        await using var command = database.CreateCommand(
            $"select {AuditChain.EventColumns}, c.previous, c.hash from {AuditChain.Table} c " +
            $"join {EnateStore.Schema}.mt_events e on e.seq_id = c.seq_id " +
            "where c.tenant_id = @tenant and c.seq_id between @low and @high order by c.seq_id");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("low", low);
        command.Parameters.AddWithValue("high", high);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, ct);

        var body = http.Response.BodyWriter.AsStream();
        await using var json = new Utf8JsonWriter(body, new JsonWriterOptions { Indented = false });
        var lines = 0;
        while (await reader.ReadAsync(ct))
        {
            var e = AuditChain.Event.Read(reader);
            json.WriteStartObject();
            json.WriteNumber("seq", e.Seq);
            json.WriteString("tenant", e.Tenant);
            json.WriteString("streamId", e.StreamId);
            json.WriteNumber("version", e.Version);
            json.WriteString("type", e.Type);
            json.WriteString("timestamp", e.Timestamp);
            json.WritePropertyName("data");
            json.WriteRawValue(e.Data, skipInputValidation: true);
            json.WriteString("previousHash", Convert.ToHexStringLower((byte[])reader[7]));
            json.WriteString("hash", Convert.ToHexStringLower((byte[])reader[8]));
            json.WriteEndObject();
            await json.FlushAsync(ct);
            json.Reset();
            body.WriteByte((byte)'\n');
            if (++lines % 256 == 0) await body.FlushAsync(ct);
        }
        await body.FlushAsync(ct);
    }

    /// A time range as a range of sequence numbers (the chain is ordered by sequence, not by time).
    private static async Task<(long Low, long High)> BoundsAsync(NpgsqlDataSource database, string tenant, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        if (from is null && to is null) return (0, long.MaxValue);
        await using var command = database.CreateCommand(
            $"select coalesce(min(seq_id), 0), coalesce(max(seq_id), -1) from {EnateStore.Schema}.mt_events " +
            "where tenant_id = @tenant and timestamp >= @from and timestamp < @to");
        command.Parameters.AddWithValue("tenant", tenant);
        command.Parameters.AddWithValue("from", from ?? DateTimeOffset.MinValue.ToUniversalTime());
        command.Parameters.AddWithValue("to", to ?? DateTimeOffset.MaxValue.ToUniversalTime());
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
