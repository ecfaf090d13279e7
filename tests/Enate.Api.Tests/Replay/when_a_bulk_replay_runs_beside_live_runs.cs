using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Replay;

/// A bulk replay's runs wait in a queue of their own and take only the listeners given to it
/// (`Enate:Workers:ReplayParallelism`): while every one of them is held by a partner that does not answer, a live run
/// of the same tenant still goes through at once, and the replays held are no more than those listeners.
public sealed class when_a_bulk_replay_runs_beside_live_runs : IAsyncLifetime
{
    private const int ReplaySlots = 2;
    private const int Replays = 10;
    private OwnPlatform _platform = null!;
    private TestPartner _held = null!;

    public async Task InitializeAsync()
    {
        _platform = await OwnPlatform.StartAsync(workersSettings: new Dictionary<string, string>
        {
            ["Enate:Workers:Parallelism"] = "8",
            ["Enate:Workers:MaxRunsPerTenant"] = "6",
            ["Enate:Workers:ReplayParallelism"] = ReplaySlots.ToString(),
        });
        _held = await TestPartner.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _held.DisposeAsync();
        await _platform.DisposeAsync();
    }

    [Fact]
    public async Task a_live_run_goes_through_while_every_replay_listener_is_held()
    {
        var api = _platform.Api;
        // A timeout longer than the test: a held call stays held instead of failing over to a retry.
        await api.Scenario(s =>
        {
            s.Put.Json(new { kind = "http", baseUrl = _held.BaseUrl, auth = new { type = "none" }, timeoutSeconds = 120 }).ToUrl("/api/v1/connections/erp");
            s.StatusCodeShouldBeSuccess();
        });
        await api.PutBroken("items");
        var failed = new List<Guid>();
        for (var i = 0; i < Replays; i++) failed.Add(await api.RequestRun("items", new { n = i }));
        foreach (var id in failed) await api.WaitForRun(id, RunStatus.Failed);
        await api.FixRecipe("items", "erp");

        _held.Gate = new SemaphoreSlim(0);
        var replayId = await api.StartBulkReplay(new { filter = new { recipe = "items" }, recipeVersion = "latest", reason = "beside live runs", concurrency = Replays });
        await Eventually.Get(() => api.Replay(replayId), v => v.Int("started") == Replays, TimeSpan.FromMinutes(1));
        await Eventually.Get(() => Task.FromResult(_held.Requests.Count), n => n >= ReplaySlots, TimeSpan.FromMinutes(1));

        // Ten replays of this tenant are waiting and two are held: a live run of the same tenant neither waits behind
        // them in a queue nor finds its share of the Workers' slots taken by them.
        await api.PutEchoRecipe("live");
        var live = await api.RequestRun("live", new { n = 1 });
        await api.WaitForRun(live, RunStatus.Succeeded, TimeSpan.FromSeconds(30));
        Assert.Equal(ReplaySlots, _held.Requests.Count);
        Assert.Equal("running", (await api.Replay(replayId)).Str("status"));

        _held.Gate.Release(1000);
        var done = await Eventually.Get(() => api.Replay(replayId), v => v.Str("status") == "completed", TimeSpan.FromMinutes(2));
        Assert.Equal(Replays, done.Int("succeeded"));
        Assert.Equal(Replays, _held.Requests.Count);
    }
}
