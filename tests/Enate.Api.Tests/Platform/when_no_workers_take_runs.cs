using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Enate.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Platform;

/// The API reports when runs wait and no Workers take them: its health degrades, naming the oldest run's wait.
public sealed class when_no_workers_take_runs(AppFixture app) : AppTest(app)
{
    private async Task<JsonElement> Health()
    {
        var result = await Api.Scenario(s =>
        {
            s.Get.Url("/health");
            s.StatusCodeShouldBeOk();
        });
        return result.ReadAsJson<JsonElement>();
    }

    [Fact]
    public async Task health_degrades_once_the_oldest_requested_run_has_waited_past_the_threshold_and_recovers()
    {
        await using var receiver = await TestPartner.StartAsync();
        await Api.Scenario(s =>
        {
            s.Post.Json(new { url = receiver.BaseUrl + "/ops", types = new[] { "queue.stalled" } }).ToUrl("/api/v1/notifications/endpoints");
            s.StatusCodeShouldBe(201);
        });
        var watch = Api.Services.GetRequiredService<RunQueueWatch>();
        await watch.MeasureAsync(default);
        Assert.Equal("Healthy", (await Health()).GetProperty("checks").GetProperty("run-queue").GetProperty("status").GetString());

        // A run accepted ten minutes ago that nothing took (its queue message is not there: the Workers never see it).
        var runId = Guid.CreateVersion7();
        await using (var session = App.Store.LightweightSession("demo"))
        {
            session.Store(new RunSummary { Id = runId, RecipeKey = "waiting", Trigger = "api", Status = RunStatus.Requested, RequestedAt = DateTimeOffset.UtcNow });
            await session.SaveChangesAsync();
        }
        await using (var connection = new Npgsql.NpgsqlConnection(App.ConnectionString))
        {
            await connection.OpenAsync();
            await using var age = new Npgsql.NpgsqlCommand(
                $"update {EnateStore.Schema}.mt_doc_runsummary set mt_last_modified = now() - interval '10 minutes' where id = @id", connection);
            age.Parameters.AddWithValue("id", runId);
            Assert.Equal(1, await age.ExecuteNonQueryAsync());
        }

        var waited = await watch.MeasureAsync(default);
        Assert.InRange(waited, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(11));
        var health = await Health();
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        var queue = health.GetProperty("checks").GetProperty("run-queue");
        Assert.Equal("Degraded", queue.GetProperty("status").GetString());
        Assert.Contains("Workers", queue.GetProperty("description").GetString());
        Assert.True(queue.GetProperty("data").GetProperty("oldestRequestedSeconds").GetDouble() >= 600);

        // The tenant is told, once, naming the run that waits.
        var told = await Eventually.Get(() => Task.FromResult(receiver.Requests.ToList()), r => r.Count >= 1, TimeSpan.FromSeconds(30));
        var notice = JsonDocument.Parse(Assert.Single(told).Body).RootElement;
        Assert.Equal("queue.stalled", notice.GetProperty("type").GetString());
        Assert.Equal(runId, notice.GetProperty("data").GetProperty("oldestRunId").GetGuid());

        await using (var session = App.Store.LightweightSession("demo"))
        {
            session.Delete<RunSummary>(runId);
            await session.SaveChangesAsync();
        }
        Assert.Equal(TimeSpan.Zero, await watch.MeasureAsync(default));
        Assert.Equal("Healthy", (await Health()).GetProperty("status").GetString());
    }
}
