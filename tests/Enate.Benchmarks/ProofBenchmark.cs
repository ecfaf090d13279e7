using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enate.Domain.Audit;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Benchmarks;

/// What proving the record costs: GET /api/v1/audit/verify over the whole chained log (the chain recomputed from the
/// events, every witnessed checkpoint checked beside it) with the API's peak memory; GET /api/v1/audit/verify-read-models
/// over every document; and signing a checkpoint beside hashing an event into the chain.
public static class ProofBenchmark
{
    public static async Task<IEnumerable<Result>> RunAsync(BenchPlatform platform, (long Events, TimeSpan Took) chaining)
    {
        var before = platform.Api.PeakMemoryMiB();
        var verify = await TimedAsync(platform, "/api/v1/audit/verify");
        var peak = platform.Api.PeakMemoryMiB();
        if (!verify.Body.GetProperty("ok").GetBoolean()) throw new InvalidOperationException($"the record did not verify: {verify.Body}");
        var verified = verify.Body.GetProperty("checked").GetInt64();
        var checkpoints = verify.Body.GetProperty("witness").GetProperty("checkpoints").GetInt64();
        var copy = await CopyRowsPerSecondAsync(platform,
            "copy (select e.seq_id, e.tenant_id, e.stream_id, e.version, e.type, e.timestamp, e.data, c.previous, c.hash " +
            "from enate.audit_chain c join enate.mt_events e on e.seq_id = c.seq_id where c.tenant_id = 'demo' order by c.seq_id) to stdout");

        var server = ServerCpu.For(platform.ConnectionString);
        var (apiBefore, serverBefore) = (platform.Api.CpuTime(), server?.CpuTime() ?? TimeSpan.Zero);
        var models = await TimedAsync(platform, "/api/v1/audit/verify-read-models");
        var (apiCpu, serverCpu) = (platform.Api.CpuTime() - apiBefore, (server?.CpuTime() ?? TimeSpan.Zero) - serverBefore);
        if (!models.Body.GetProperty("ok").GetBoolean()) throw new InvalidOperationException($"the read models did not verify: {models.Body}");
        var documents = models.Body.GetProperty("checked").EnumerateObject().Sum(p => p.Value.GetInt64());
        var documentsCopy = await CopyRowsPerSecondAsync(platform,
            "copy (select data from enate.mt_doc_runsummary union all select data from enate.mt_doc_inboundrequest) to stdout");

        var (signatures, hashes) = SigningRates();
        return
        [
            new Result("audit: verify the chain and the witness (GET /api/v1/audit/verify)", $"{verified / verify.Took.TotalSeconds:N0} events/s",
                $"COPY of the verify's join, in order: {copy:N0} rows/s", verified / verify.Took.TotalSeconds / copy,
                $"{verified:N0} events recomputed, {checkpoints:N0} witnessed checkpoints checked beside them, in {verify.Took.TotalSeconds:N1} s; " +
                $"API peak resident memory {peak:N0} MiB (before: {before:N0} MiB): the chain is streamed, not held"),
            new Result("audit: verify the read models (GET /api/v1/audit/verify-read-models)", $"{documents / models.Took.TotalSeconds:N0} documents/s",
                $"COPY of both read-model tables: {documentsCopy:N0} rows/s", documents / models.Took.TotalSeconds / documentsCopy,
                $"{documents:N0} documents built again from their events and compared, in {models.Took.TotalSeconds:N1} s; CPU per 1,000 documents: " +
                $"API {apiCpu.TotalMilliseconds * 1000 / documents:0.0} ms, PostgreSQL {serverCpu.TotalMilliseconds * 1000 / documents:0.0} ms"),
            new Result("audit: sign a checkpoint (Ed25519, in process)", $"{signatures:N0} signatures/s",
                $"hash an event into the chain (SHA-256 of its canonical form): {hashes:N0} events/s", signatures / hashes,
                "a checkpoint a minute per tenant costs nothing beside the chain; the witness's append is one flushed line"),
        ];
    }

    private static async Task<(JsonElement Body, TimeSpan Took)> TimedAsync(BenchPlatform platform, string path)
    {
        var watch = Stopwatch.StartNew();
        var body = await platform.Client.GetFromJsonAsync<JsonElement>(path);
        return (body, watch.Elapsed);
    }

    private static async Task<double> CopyRowsPerSecondAsync(BenchPlatform platform, string sql)
    {
        var watch = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(platform.ConnectionString);
        await connection.OpenAsync();
        using var text = await connection.BeginTextExportAsync(sql);
        var buffer = new char[1 << 16];
        long rows = 0;
        int read;
        while ((read = await text.ReadAsync(buffer, 0, buffer.Length)) > 0) rows += buffer.AsSpan(0, read).Count('\n');
        return rows / watch.Elapsed.TotalSeconds;
    }

    /// Signatures a second with the platform's signer, and chain hashes a second over canonical events of a typical size.
    private static (double Signatures, double Hashes) SigningRates()
    {
        using var signer = AuditSigner.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Enate:Audit:SigningKey"] = "benchmark-signing-rate-key-000000000000" }).Build())!;
        var checkpoint = new Checkpoint("demo", 1, 1_000_000, new string('a', 64), "2026-12-02T00:00:00.000000Z", Checkpoint.First, signer.KeyId, "");
        var canonical = new AuditChain.Event(1_000_000, "demo", Guid.NewGuid().ToString(), 3, "outbound_request_sent", "2026-12-02T00:00:00.000000Z",
            "{\"runId\": \"" + Guid.NewGuid() + "\", \"body\": {\"size\": 120, \"text\": \"" + new string('x', 120) + "\"}}");
        var previous = new byte[32];
        double Rate(Action work, int times)
        {
            for (var i = 0; i < times / 10; i++) work();
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < times; i++) work();
            return times / watch.Elapsed.TotalSeconds;
        }
        return (Rate(() => signer.Sign(checkpoint.Canonical), 20_000), Rate(() => previous = AuditChain.Hash(previous, canonical), 200_000));
    }
}
