using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace Enate.Api.Tests.Replay;

/// Its own database and API, and Workers only as separate processes: the job must survive a SIGKILL.
public sealed class when_the_workers_die_during_a_bulk_replay : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private IAlbaHost _api = null!;
    private TestPartner _partner = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        _api = await AppFixture.StartApiAsync(_database.ConnectionString);
        _partner = await TestPartner.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _partner.DisposeAsync();
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task the_job_resumes_where_it_stopped_and_re_runs_each_run_once()
    {
        await _api.PutConnection("erp", _partner.BaseUrl);
        await _api.PutBroken("items");
        var first = WorkerProcess.Start(_database.ConnectionString);
        var failed = new List<Guid>();
        for (var i = 0; i < 12; i++) failed.Add(await _api.RequestRun("items", new { n = i }));
        foreach (var id in failed) await _api.WaitForRun(id, RunStatus.Failed, TimeSpan.FromMinutes(2));
        await _api.FixRecipe("items", "erp");

        // The partner holds every call: the first replays stay in flight and the job cannot finish.
        _partner.Gate = new SemaphoreSlim(0);
        var replayId = await _api.StartBulkReplay(new { filter = new { recipe = "items" }, recipeVersion = "latest", reason = "resume", concurrency = 4 });
        var before = await Eventually.Get(() => _api.Replay(replayId), v => v.Int("started") == 4, TimeSpan.FromMinutes(1));
        await Eventually.Get(() => Task.FromResult(_partner.Requests.Count), n => n >= 1, TimeSpan.FromMinutes(1));
        await first.KillAsync();
        Assert.Equal("running", before.Str("status"));

        _partner.Gate.Release(1000);
        await using var second = WorkerProcess.Start(_database.ConnectionString);
        var done = await Eventually.Get(() => _api.Replay(replayId), v => v.Str("status") == "completed", TimeSpan.FromMinutes(3));

        Assert.Equal(12, done.Int("total"));
        Assert.Equal(12, done.Int("started"));
        Assert.Equal(12, done.Int("succeeded"));
        foreach (var oldId in failed)
        {
            var old = (await _api.GetAsJson<RunSummary>($"/api/v1/runs/{oldId}"))!;
            var newId = Assert.Single(old.ReplayedBy);
            Assert.Equal(RunStatus.Succeeded, (await _api.GetAsJson<RunSummary>($"/api/v1/runs/{newId}"))!.Status);
        }
        // Each replay called the partner under its own key; a call cut off by the kill was repeated under the same one.
        Assert.Equal(12, _partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct().Count());
    }
}
