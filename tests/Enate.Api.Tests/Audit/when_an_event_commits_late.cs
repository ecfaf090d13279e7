using System.Text.Json;
using Enate.Domain;
using Enate.Domain.Audit;
using Alba;
using Enate.Domain.Inbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Testing;
using Marten;
using Npgsql;

namespace Enate.Api.Tests.Audit;

/// A transaction that drew its event's sequence number and then waits (a lock, a stalled disk) commits after events
/// with higher numbers. The chain stops at its gap until PostgreSQL says the transaction has finished, then chains
/// the event in its place: verification stays ok, and nothing is left unchained.
public sealed class when_an_event_commits_late(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task it_is_chained_in_its_place_and_the_record_verifies()
    {
        await Api.PutEchoRecipe("late");
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var options = Marten.Services.SessionOptions.ForTransaction(transaction);
        options.TenantId = "demo";
        var lateId = Guid.CreateVersion7();
        long lateSeq;
        await using (var session = App.Store.LightweightSession(options))
        {
            session.Events.StartStream<InboundRequest>(lateId, new InboundRequestRecorded(lateId, TriggerTypes.Api, "late", "POST", "/late",
                [], Recording.Body("{}", "application/json"), Verdicts.Rejected, 404, "held open", [], DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
            await using var seq = new NpgsqlCommand($"select seq_id from {EnateStore.Schema}.mt_events where stream_id = @id", connection, transaction);
            seq.Parameters.AddWithValue("id", lateId);
            lateSeq = (long)(await seq.ExecuteScalarAsync())!;
        }

        // Later events commit while the first is held open for ten seconds.
        var runs = new List<Guid>();
        for (var i = 0; i < 3; i++) runs.Add(await Api.RequestRun("late", new { i }));
        foreach (var run in runs) await Api.WaitForRun(run, RunStatus.Succeeded);
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.True(await ChainedUpToAsync() < lateSeq, "the chain passed a transaction still in flight");

        await transaction.CommitAsync();

        var verification = await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/audit/verify"),
            v => v.GetProperty("unchained").GetInt64() == 0);
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());
        Assert.True(await ChainedUpToAsync() > lateSeq);
        await using var chained = new NpgsqlCommand($"select count(*) from {AuditChain.Table} where seq_id = {lateSeq}", connection);
        Assert.Equal(1L, await chained.ExecuteScalarAsync());
    }

    private async Task<long> ChainedUpToAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var head = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {AuditChain.Table}", connection);
        return (long)(await head.ExecuteScalarAsync())!;
    }
}
