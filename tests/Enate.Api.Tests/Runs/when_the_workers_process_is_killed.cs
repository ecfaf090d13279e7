using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace Enate.Api.Tests.Runs;

/// Its own database and API, and Workers only as a separate process: nothing else may pick the run up.
public sealed class when_the_workers_process_is_killed : IAsyncLifetime
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
    public async Task an_accepted_run_completes_after_a_restart_and_the_retried_call_keeps_its_idempotency_key()
    {
        await _api.PutConnection("erp", _partner.BaseUrl);
        await _api.PutRecipe("slow", new
        {
            name = "Slow partner",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });

        _partner.Gate = new SemaphoreSlim(0);
        var runId = await RunKilledMidCallAsync("slow", new { order = 1 }, () => _partner.Requests.Count);

        var keys = _partner.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct().ToList();
        Assert.Equal([$"{runId}:post"], keys);
        Assert.True(_partner.Requests.Count >= 2);
    }

    [Fact]
    public async Task a_run_killed_during_its_second_call_repeats_that_call_only()
    {
        await _api.PutConnection("erp", _partner.BaseUrl);
        await _api.PutRecipe("two-calls", new
        {
            name = "Reserve, then order",
            trigger = new { type = "api" },
            steps = new object[]
            {
                new { id = "reserve", type = "http", connection = "erp", method = "POST", path = "/reservations", body = "{{ input | json }}" },
                new { id = "order", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{{ steps.reserve.body | json }}" },
            },
        });

        _partner.Gate = new SemaphoreSlim(0);
        _partner.GatedPath = "/orders";
        // The first call's outcome is committed before the second call is made, so only the second is in flight.
        var runId = await RunKilledMidCallAsync("two-calls", new { order = 2 }, () => _partner.Requests.Count(r => r.Path == "/orders"));

        Assert.Single(_partner.Requests, r => r.Path == "/reservations");
        var orders = _partner.Requests.Where(r => r.Path == "/orders").ToList();
        Assert.True(orders.Count >= 2);
        Assert.All(orders, r => Assert.Equal($"{runId}:order", r.Headers["Idempotency-Key"]));
    }

    /// Requests a run with a Workers process of its own, kills that process (SIGKILL) once `held` counts a call the
    /// partner holds, then lets the partner answer and starts a second process; returns once the run succeeded.
    private async Task<Guid> RunKilledMidCallAsync(string recipe, object input, Func<int> held)
    {
        var first = WorkerProcess.Start(_database.ConnectionString);
        var runId = await _api.RequestRun(recipe, input);
        await Eventually.Get(() => Task.FromResult(held()), n => n >= 1, TimeSpan.FromSeconds(60));
        await first.KillAsync();
        _partner.Gate!.Release(100);

        await using var second = WorkerProcess.Start(_database.ConnectionString);
        var run = await _api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromMinutes(3));
        Assert.Equal(RunStatus.Succeeded, run.Status);
        return runId;
    }
}
