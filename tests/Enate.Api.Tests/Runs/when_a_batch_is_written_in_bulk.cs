using System.Text.Json;
using Enate.Api.Runs;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Enate.Api.Tests.Runs;

/// Group commit writes its batches with its own multi-row statements instead of Marten's unit of work. The rows
/// must be exactly the ones Marten would have written: the same request is written both ways here and every
/// column of every row is compared, ids aside.
public sealed class when_a_batch_is_written_in_bulk(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task every_row_equals_the_one_marten_writes()
    {
        var at = DateTimeOffset.UtcNow;
        var bulk = Start(at, out var bulkIds);
        var marten = Start(at, out var martenIds);

        await Api.Services.GetRequiredService<BulkWriter>().WriteAsync(
            [new BulkWriter.Item(bulk.TenantId, bulk.Streams, bulk.Documents, [], null)]);
        await using (var session = App.Store.LightweightSession(marten.TenantId))
        {
            foreach (var stream in marten.Streams) session.Events.StartStream(stream.Aggregate, stream.Id, stream.Events);
            session.InsertObjects(marten.Documents);
            await session.SaveChangesAsync();
        }

        foreach (var (table, key) in new[]
                 {
                     ("mt_streams", "id"), ("mt_events", "stream_id"), ("mt_doc_runsummary", "id"),
                     ("mt_doc_inboundrequest", "id"), ("mt_doc_runidempotency", "id"),
                 })
        {
            var written = await RowsAsync(table, key, bulkIds);
            var expected = await RowsAsync(table, key, martenIds);
            Assert.NotEmpty(expected);
            Assert.Equal(Normalize(expected, martenIds, bulkIds), written);
        }

        // And Marten reads what was written in bulk as its own.
        await using var query = App.Store.LightweightSession("demo");
        var summary = await query.Events.FetchLatest<RunSummary>(Guid.Parse(bulkIds[0]));
        Assert.Equal(RunStatus.Requested, summary!.Status);
        Assert.Equal(1, summary.Version);
        var events = await query.Events.FetchStreamAsync(Guid.Parse(bulkIds[1]));
        Assert.IsType<InboundRequestRecorded>(Assert.Single(events).Data);
    }

    [Fact]
    public async Task a_taken_idempotency_key_fails_the_batch_and_leaves_nothing()
    {
        var writer = Api.Services.GetRequiredService<BulkWriter>();
        var first = Start(DateTimeOffset.UtcNow, out _, key: "same-key");
        await writer.WriteAsync([new BulkWriter.Item(first.TenantId, first.Streams, first.Documents, [], null)]);

        var second = Start(DateTimeOffset.UtcNow, out var ids, key: "same-key");
        await Assert.ThrowsAsync<JasperFx.DocumentAlreadyExistsException>(() =>
            writer.WriteAsync([new BulkWriter.Item(second.TenantId, second.Streams, second.Documents, [], null)]));

        Assert.Empty(await RowsAsync("mt_streams", "id", ids));
        Assert.Empty(await RowsAsync("mt_events", "stream_id", ids));
        Assert.Empty(await RowsAsync("mt_doc_runsummary", "id", ids));
    }

    /// One API request's writes: a run, its inbound record and an idempotency key; ids[0] the run, ids[1] the record.
    private static RunStart Start(DateTimeOffset at, out string[] ids, string? key = null)
    {
        var runId = Guid.CreateVersion7(at);
        var inboundId = Guid.CreateVersion7(at);
        key ??= "key-" + runId;
        var input = JsonDocument.Parse("""{"order":{"id":7,"lines":[1,2]},"note":"ünïcode ✓"}""").RootElement;
        var requested = new RunRequested(runId, "orders", 3, "api", input, key, "WI-1", null, "key demo", at, inboundId);
        var recorded = new InboundRequestRecorded(inboundId, TriggerTypes.Api, "orders", "POST", "/api/v1/recipes/orders/runs",
            new Dictionary<string, string> { ["Content-Type"] = "application/json", ["Authorization"] = "***" },
            Recording.Body(input.GetRawText(), "application/json"), Verdicts.Accepted, 202, null, [runId], at, "delivery-" + runId);
        var idempotency = new RunIdempotency { Id = RunIdempotency.IdFor("orders", key), RunId = runId, BodySha256 = "abc", CreatedAt = at };
        ids = [runId.ToString(), inboundId.ToString(), idempotency.Id];
        return new RunStart("demo",
            [new NewStream(typeof(Run), runId, [requested]), new NewStream(typeof(InboundRequest), inboundId, [recorded])],
            [idempotency], []);
    }

    /// Every column but those that differ by nature (sequence numbers, event ids, write times, a plain document's
    /// random version), as JSON text, the first id's rows first.
    private async Task<List<string>> RowsAsync(string table, string key, string[] ids)
    {
        string[] differing = table switch
        {
            "mt_events" => ["seq_id", "id", "timestamp", "correlation_id"],
            "mt_streams" => ["timestamp", "created"],
            "mt_doc_runidempotency" => ["mt_last_modified", "mt_version"],
            _ => ["mt_last_modified"],
        };
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select (to_jsonb(t) - @differing)::text from enate.{table} t where {key}::text = any(@ids) order by {key}::text = @first desc",
            connection);
        command.Parameters.AddWithValue("differing", differing);
        command.Parameters.AddWithValue("ids", ids);
        command.Parameters.AddWithValue("first", ids[0]);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private static List<string> Normalize(List<string> rows, string[] from, string[] to) =>
        rows.Select(row => from.Zip(to).Aggregate(row, (text, ids) => text.Replace(ids.First, ids.Second))).ToList();

    /// Stored JSON names no null field: a run's read model, when requested, is mostly fields still to come.
    /// Marten reads a missing field as null, so nothing a reader sees changes.
    [Fact]
    public async Task stored_json_names_no_null_field_and_reads_back_as_null()
    {
        var start = Start(DateTimeOffset.UtcNow, out var ids);
        await Api.Services.GetRequiredService<BulkWriter>().WriteAsync(
            [new BulkWriter.Item(start.TenantId, start.Streams, start.Documents, [], null)]);

        await using (var connection = new NpgsqlConnection(App.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "select count(*) from (select data from enate.mt_doc_runsummary where id = @run " +
                "union all select data from enate.mt_doc_inboundrequest where id = @inbound " +
                "union all select data from enate.mt_events where stream_id in (@run, @inbound)) t " +
                "where exists (select 1 from jsonb_each(t.data) f where f.value = 'null'::jsonb)", connection);
            command.Parameters.AddWithValue("run", Guid.Parse(ids[0]));
            command.Parameters.AddWithValue("inbound", Guid.Parse(ids[1]));
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }

        await using var query = App.Store.QuerySession("demo");
        var summary = await query.LoadAsync<RunSummary>(Guid.Parse(ids[0]));
        Assert.Null(summary!.FinishedAt);
        Assert.Null(summary.Reason);
        Assert.Null(summary.ReplayOf);
        Assert.Equal("WI-1", summary.WorkItem);
        var requested = (RunRequested)(await query.Events.FetchStreamAsync(Guid.Parse(ids[0])))[0].Data;
        Assert.Null(requested.ReplayOf);
        Assert.Equal("key demo", requested.RequestedBy);
    }
}
