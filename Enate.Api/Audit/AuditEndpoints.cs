using Enate.Domain.Platform;
using Microsoft.AspNetCore.Mvc;
using System.Security.Claims;
using System.Text.Json;
using Enate.Api.Security;
using Enate.Domain;
using Enate.Domain.Audit;
using Enate.Api.Platform;
using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace Enate.Api.Audit;

public sealed record AuditKeys(IReadOnlyList<AuditKey> Items);

public sealed record Checkpoints(IReadOnlyList<Checkpoint> Items, string? NextCursor, string? Witness);

public static class AuditEndpoints
{
    /// Recomputes the caller's tenant's hash chain from the event store and reports the first place where the events
    /// no longer match what was chained — an altered, deleted, inserted or moved event — or where the chain no longer
    /// passes through a head the witness holds a signed checkpoint of (`rewritten`), or the witness's checkpoints are
    /// forged or one is missing.
    [WolverineGet("/api/v1/audit/verify", OperationId = "VerifyAudit")]
    [ProducesResponseType<Verification>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    public static async Task<IResult> Verify(ClaimsPrincipal user, TenantDatabases databases, ChainVerification verification,
        Wolverine.IMessageBus bus, TimeProvider clock, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct)
    {
        var tenant = user.Tenant();
        var database = databases.For(tenant);
        var (low, high) = await BoundsAsync(database, tenant, from, to, ct);
        var result = await verification.VerifyAsync(tenant, low, high, fromStart: from is null, ct);
        // A record that does not verify is news for the tenant's endpoints (`audit.mismatch`), once per mismatch found.
        if (result.FirstMismatch is { } mismatch)
            await bus.PublishAsync(Enate.Domain.Notifications.Notices.OfMismatch(tenant, mismatch.Seq, mismatch.Reason, mismatch.Detail, clock.GetUtcNow()),
                new Wolverine.DeliveryOptions { TenantId = tenant });
        return Results.Ok(result);
    }

    /// Builds every read model document of the caller's tenant again from its events and compares it with what is stored
    /// and served: each difference is named by document, id and field (up to 100 of them). With `limit`, a page of at
    /// most that many streams in id order, and `nextCursor` where the next page begins (null after the last).
    [WolverineGet("/api/v1/audit/verify-read-models", OperationId = "VerifyReadModels")]
    [ProducesResponseType<ReadModelVerification>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    [Answers("invalid-cursor")]
    public static async Task<IResult> VerifyReadModels(ClaimsPrincipal user, ReadModelCheck check, int? limit, string? cursor, CancellationToken ct)
    {
        if (limit is < 1 or > ReadModelCheck.MaxStreams)
            return Problems.Validation([new("$limit", $"must be between 1 and {ReadModelCheck.MaxStreams:N0} streams.")]);
        Guid? after = null;
        if (cursor is not null)
        {
            if (!Paging.TryRead(cursor, ReadModelCheck.List, out var position) || !Guid.TryParse(position, out var id)) return Paging.InvalidCursor;
            after = id;
        }
        return Results.Ok(await check.VerifyAsync(user.Tenant(), after, limit, ct));
    }

    /// The public keys the platform signs audit checkpoints with, the current one first: what an auditor verifies
    /// checkpoints and exports with (tools/verify-audit-export.py --public-key).
    [WolverineGet("/api/v1/audit/keys", OperationId = "ListAuditKeys")]
    [ProducesResponseType<AuditKeys>(200)]
    [Tags("Audit")]
    [AllowAnonymous]
    public static IResult Keys(AuditProof proof) => Results.Ok(new AuditKeys(proof.Keys));

    /// Signs a checkpoint of the caller's tenant's chain head now, and hands it to the witness: 201 with it, or 200 with
    /// the latest one when the chain has not moved since. 409 when no signing key or witness is configured.
    [WolverinePost("/api/v1/audit/checkpoints", OperationId = "CreateAuditCheckpoint")]
    [ProducesResponseType<Checkpoint>(201)]
    [ProducesResponseType<Checkpoint>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    [Answers("checkpoints-off", "nothing-chained")]
    public static async Task<IResult> Checkpoint(ClaimsPrincipal user, TenantDatabases databases, AuditProof proof, CancellationToken ct)
    {
        if (proof.Checkpointing is null)
            return Problems.Conflict("checkpoints-off", "No audit signing key or witness is configured (Enate:Audit), so no checkpoint can be signed.");
        var tenant = user.Tenant();
        var made = await proof.CheckpointAsync(databases.For(tenant), tenant, wait: true, ct);
        if (made.Count > 0) return Results.Created("/api/v1/audit/checkpoints", made[0]);
        Checkpoint? latest = null;
        await foreach (var checkpoint in proof.Witness!.ReadAsync(tenant, ct)) latest = checkpoint;
        return latest is null
            ? Problems.Conflict("nothing-chained", "The tenant's chain holds no event yet: there is no head to sign.")
            : Results.Ok(latest);
    }

    /// The caller's tenant's checkpoints as the witness holds them, newest first, paged with `limit` and `cursor`.
    [WolverineGet("/api/v1/audit/checkpoints", OperationId = "ListAuditCheckpoints")]
    [ProducesResponseType<Checkpoints>(200)]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    [Answers("invalid-cursor")]
    public static async Task<IResult> ListCheckpoints(ClaimsPrincipal user, AuditProof proof, int? limit, string? cursor, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "checkpoint", out var after) is { } problem) return problem;
        long? before = null;
        if (after is not null)
        {
            if (!long.TryParse(after, out var number)) return Paging.InvalidCursor;
            before = number;
        }
        // The witness is read oldest first; the newest limit + 1 before the cursor are kept, whatever its length.
        var take = limit ?? Paging.DefaultLimit;
        var newest = new Queue<Checkpoint>();
        if (proof.Witness is { } witness)
            await foreach (var checkpoint in witness.ReadAsync(user.Tenant(), ct))
            {
                if (checkpoint.Number >= before) continue;
                newest.Enqueue(checkpoint);
                if (newest.Count > take + 1) newest.Dequeue();
            }
        var page = Paging.Of(newest.Reverse().ToList(), take, c => c.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), "checkpoint");
        return Results.Ok(new Checkpoints(page.Items, page.NextCursor, proof.Witness?.Describe));
    }

    /// The caller's tenant's chained events as NDJSON, one event a line with its hashes, streamed from the
    /// database as it is read (constant memory however long the range). docs/audit.md explains how to verify it.
    [WolverineGet("/api/v1/audit/export", OperationId = "ExportAudit")]
    [ProducesResponseType<string>(200, "application/x-ndjson")]
    [Tags("Audit")]
    [Authorize(Policy = Scopes.AuditRead)]
    public static async Task Export(HttpContext http, ClaimsPrincipal user, TenantDatabases databases, AuditProof proof, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        var tenant = user.Tenant();
        var database = databases.For(tenant);
        await AuditChain.EnsureTableAsync(database, ct);
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
        // The witness's checkpoints ride along, each after the event whose head it signs: the export carries its proof.
        await using var checkpoints = (proof.Witness?.ReadAsync(tenant, ct) ?? AsyncEnumerable.Empty<Checkpoint>()).GetAsyncEnumerator(ct);
        var checkpoint = await checkpoints.MoveNextAsync() ? checkpoints.Current : null;
        while (checkpoint is not null && checkpoint.Seq < low) checkpoint = await checkpoints.MoveNextAsync() ? checkpoints.Current : null;
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
            while (checkpoint is not null && checkpoint.Seq <= e.Seq)
            {
                JsonSerializer.Serialize(json, new { checkpoint }, CheckpointLine);
                await json.FlushAsync(ct);
                json.Reset();
                body.WriteByte((byte)'\n');
                checkpoint = await checkpoints.MoveNextAsync() ? checkpoints.Current : null;
            }
            if (++lines % 256 == 0) await body.FlushAsync(ct);
        }
        await body.FlushAsync(ct);
    }

    private static readonly JsonSerializerOptions CheckpointLine = new(JsonSerializerDefaults.Web);

    /// A time range as a range of sequence numbers (the chain is ordered by sequence, not by time).
    private static async Task<(long Low, long High)> BoundsAsync(NpgsqlDataSource database, string tenant, DateTimeOffset? from,
        DateTimeOffset? to, CancellationToken ct)
    {
        if (from is null && to is null) return (0, long.MaxValue);
        await using var command = database.CreateCommand(
            $"select coalesce(min(seq_id), 0), coalesce(max(seq_id), -1) from {EnateStore.Schema}.mt_events " +
            "where tenant_id = @tenant and timestamp >= @from and timestamp < @to");
        command.Parameters.AddWithValue("tenant", tenant);
        // PostgreSQL's driver takes a time in UTC only; a client may give any offset.
        command.Parameters.AddWithValue("from", (from ?? DateTimeOffset.MinValue).ToUniversalTime());
        command.Parameters.AddWithValue("to", (to ?? DateTimeOffset.MaxValue).ToUniversalTime());
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
