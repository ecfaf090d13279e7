using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Enate.Testing;

namespace Enate.Simulators.Tests.Common;

public sealed class when_faults_are_injected(SimulatorFixture sim) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => sim.ResetAsync("crm");
    public Task DisposeAsync() => sim.ResetAsync("crm");

    private Task<HttpResponseMessage> GetDealsAsync() => sim.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/crm/deals")
    {
        Headers = { { "Authorization", "Bearer sim-crm-token" } },
    });

    [Fact]
    public async Task latency_delays_the_answer()
    {
        await sim.PutFaultsAsync("crm", new { latencyMs = 400 });

        var watch = Stopwatch.StartNew();
        using var response = await GetDealsAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(watch.ElapsedMilliseconds >= 380, $"answered after {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task an_error_rate_fails_about_that_share_of_requests_with_500()
    {
        await sim.PutFaultsAsync("crm", new { errorRate = 0.5 });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 200; i++)
        {
            using var response = await GetDealsAsync();
            statuses.Add(response.StatusCode);
        }

        var failed = statuses.Count(s => s == HttpStatusCode.InternalServerError);
        Assert.InRange(failed, 60, 140);
        Assert.Equal(200 - failed, statuses.Count(s => s == HttpStatusCode.OK));
    }

    [Fact]
    public async Task a_fixed_status_answers_every_request_with_retry_after()
    {
        await sim.PutFaultsAsync("crm", new { status = 503, retryAfterSeconds = 7 });

        using var first = await GetDealsAsync();
        using var second = await GetDealsAsync();

        Assert.All([first, second], r =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), r.Headers.RetryAfter?.Delta);
        });
        Assert.Equal("application/problem+json", first.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task downtime_answers_503_and_then_the_app_recovers()
    {
        var watch = Stopwatch.StartNew();
        await sim.PutFaultsAsync("crm", new { downForSeconds = 2 });

        using var during = await GetDealsAsync();
        var recovered = await Eventually.Get(async () => (await GetDealsAsync()).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.Equal(HttpStatusCode.OK, recovered);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"recovered after {watch.Elapsed}");
    }

    [Fact]
    public async Task a_faulted_request_is_recorded_but_has_no_side_effect()
    {
        await sim.SimPostAsync("/_sim/crm/deals", new { id = "D1", dealname = "Acme renewal", amount = 1200 });
        await sim.PutFaultsAsync("crm", new { status = 429, retryAfterSeconds = 1 });
        using var patch = new HttpRequestMessage(HttpMethod.Patch, "/crm/deals/D1")
        {
            Content = SimulatorFixture.Json(new { dealstage = "closedwon" }),
            Headers = { { "Authorization", "Bearer sim-crm-token" }, { "Idempotency-Key", "close-D1" } },
        };

        using var response = await sim.Client.SendAsync(patch);
        await sim.Client.DeleteAsync("/_sim/crm/faults");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var deal = await sim.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/crm/deals/D1")
        {
            Headers = { { "Authorization", "Bearer sim-crm-token" } },
        });
        Assert.Equal("appointmentscheduled", JsonNode.Parse(await deal.Content.ReadAsStringAsync())!["dealstage"]!.GetValue<string>());
        var effects = await sim.GetJsonAsync("/_sim/crm/effects");
        Assert.Null(effects["byKey"]!["close-D1"]);
        Assert.Equal(1, effects["attemptsByKey"]!["close-D1"]!.GetValue<int>());
        var recorded = (await sim.GetJsonAsync("/_sim/crm/requests?method=PATCH")).AsArray();
        Assert.Equal("close-D1", Assert.Single(recorded)!["idempotencyKey"]!.GetValue<string>());
    }

    [Fact]
    public async Task control_paths_and_other_apps_are_not_faulted()
    {
        await sim.PutFaultsAsync("crm", new { status = 503 });

        using var control = await sim.Client.GetAsync("/_sim/crm/requests");
        using var hr = await sim.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/hr/employees")
        {
            Headers = { { "X-Api-Key", "sim-hr-key" } },
        });

        Assert.Equal(HttpStatusCode.OK, control.StatusCode);
        Assert.Equal(HttpStatusCode.OK, hr.StatusCode);
    }

    [Fact]
    public async Task clearing_the_faults_restores_normal_answers()
    {
        await sim.PutFaultsAsync("crm", new { status = 500 });
        await sim.Client.DeleteAsync("/_sim/crm/faults");

        using var response = await GetDealsAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task impossible_settings_are_refused()
    {
        using var response = await sim.Client.PutAsync("/_sim/crm/faults", SimulatorFixture.Json(new { errorRate = 1.5 }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
