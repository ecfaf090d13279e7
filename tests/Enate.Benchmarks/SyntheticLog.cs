using System.Text.Json;
using Enate.Domain;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Npgsql;

namespace Enate.Benchmarks;

/// Finished runs of tenant `demo` written straight through Marten in bulk (the inline projections included), for
/// work over a large log without waiting for the engine to produce it: an inbound record and 4 run events each, as
/// a run of one transform records them.
public sealed class SyntheticLog(string connectionString) : IAsyncDisposable
{
    public const string Tenant = "demo";
    public const int EventsPerRun = 5;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
    private DocumentStore? _store;

    public IDocumentStore Store => _store ??= DocumentStore.For(options =>
    {
        EnateStore.Configure(options);
        options.Connection(_dataSource);
    });

    public NpgsqlDataSource DataSource => _dataSource;

    public async Task AppendRunsAsync(int runs)
    {
        const int perBatch = 500;
        for (var done = 0; done < runs; done += perBatch)
        {
            await using var session = Store.LightweightSession(Tenant);
            for (var i = done; i < Math.Min(runs, done + perBatch); i++)
            {
                var id = Guid.CreateVersion7();
                var inbound = Guid.CreateVersion7();
                var at = DateTimeOffset.UtcNow;
                var input = JsonSerializer.SerializeToElement(new { n = i, name = $"Customer {i}", amount = 100.25m + i, note = "bench ü" });
                var body = new RecordedBody("application/json", input.GetRawText().Length, new string('0', 64), input.GetRawText(), false);
                session.Events.StartStream<InboundRequest>(inbound, new InboundRequestRecorded(inbound, TriggerTypes.Api, "bench", "POST",
                    "/api/v1/recipes/bench/runs", new Dictionary<string, string> { ["content-type"] = "application/json" }, body,
                    Verdicts.Accepted, 202, null, [id], at));
                session.Events.StartStream<Run>(id,
                    new RunRequested(id, "bench", 1, "api", input, null, $"W-{i}", null, "bench", at, inbound),
                    new RunStarted(id, 1, "bench", at),
                    new StepCompleted(id, "shape", input, at, "transform"),
                    new RunSucceeded(id, input, at));
            }
            await session.SaveChangesAsync();
        }
    }

    /// A fingerprint of every read-model row: tenant, id, revision and the JSON. The JSON's own `version` is left
    /// out: quick appends leave it 0 in live documents and the stream version is in mt_version (the revision).
    public async Task<string> ReadModelsFingerprintAsync()
    {
        var parts = new List<string>();
        foreach (var table in new[] { "enate.mt_doc_runsummary", "enate.mt_doc_inboundrequest" })
        {
            await using var command = _dataSource.CreateCommand(
                $"select count(*)::text || ':' || coalesce(md5(string_agg(tenant_id || '/' || id::text || '/' || mt_version::text || '/' || " +
                $"(data - 'version')::text, ',' order by tenant_id, id)), '') from {table}");
            command.CommandTimeout = 0;
            parts.Add($"{table}={await command.ExecuteScalarAsync()}");
        }
        return string.Join("; ", parts);
    }

    public async ValueTask DisposeAsync()
    {
        _store?.Dispose();
        await _dataSource.DisposeAsync();
    }
}
