using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.UseCases;

/// The shipped recipes against peers that fail: half of Enate's answers are errors, or Enate is down for a
/// while, or a webhook arrives with a bad signature. The recipes here retry every second (the shipped ones
/// follow the default schedule of immediately, 5 s, 5 min, …, which a test cannot wait for); what is
/// proven is the same: every run completes once the peer recovers and no side effect happens twice.
public sealed class when_the_peers_misbehave(AppFixture app) : AppTest(app)
{
    private UseCaseWorld _world = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _world = await UseCaseWorld.StartAsync(Api, (_, definition) =>
        {
            definition["retry"] = new JsonObject { ["schedule"] = new JsonArray([.. Enumerable.Range(0, 20).Select(_ => (JsonNode?)JsonValue.Create("PT1S"))]), ["jitter"] = 0.0 };
            return definition;
        });
    }

    public override async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task with_half_of_enates_answers_failing_every_run_completes_once_and_nothing_doubles()
    {
        (await _world.Sim.PutAsJsonAsync("/_sim/enate/faults", new { errorRate = 0.5 })).EnsureSuccessStatusCode();
        for (var i = 0; i < 10; i++)
            await _world.SimPost("/_sim/hr/employees", new { firstName = "Temp", lastName = $"Worker{i}", email = $"temp{i}@example.com" });

        var runs = await AllFinished("hr-employee-to-enate-user", 10);
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.GetProperty("status").GetString()));
        Assert.Contains(runs, r => r.GetProperty("attempts").GetInt32() > 1);
        await _world.Sim.DeleteAsync("/_sim/enate/faults");
        var users = await _world.EnateGet("/User");
        Assert.Equal(10, users.GetArrayLength());
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task with_enate_down_for_a_while_every_run_completes_after_it_comes_back()
    {
        (await _world.Sim.PutAsJsonAsync("/_sim/enate/faults", new { downForSeconds = 6 })).EnsureSuccessStatusCode();
        for (var i = 0; i < 5; i++)
            await _world.SimPost("/_sim/crm/deals", new { dealname = $"Deal {i}", amount = 1000 + i, company = $"Company {i}" });

        var runs = await AllFinished("crm-deal-to-onboarding-case", 5);
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.GetProperty("status").GetString()));
        var cases = await _world.EnateGet("/Packet/Search?processType=1");
        Assert.Equal(5, cases.GetArrayLength());
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task a_webhook_with_a_bad_signature_is_refused_recorded_and_starts_nothing()
    {
        await _world.SimPost("/_sim/hr/employees", new { firstName = "Mallory", lastName = "Forger", email = "mallory@example.com", badSignature = true });

        var deliveries = await Eventually.Get(() => _world.Sim.GetFromJsonAsync<JsonElement>("/_sim/hr/deliveries"),
            d => d.GetArrayLength() > 0 && d[0].GetProperty("state").GetString() != "pending", TimeSpan.FromSeconds(20));
        Assert.Contains(401, deliveries[0].GetProperty("statusCodes").EnumerateArray().Select(s => s.GetInt32()));
        var rejected = await _world.Api.GetFromJsonAsync<JsonElement>("/api/v1/inbound?trigger=webhook&verdict=rejected");
        Assert.NotEqual(0, rejected.GetProperty("items").GetArrayLength());
        Assert.StartsWith("Signature", rejected.GetProperty("items")[0].GetProperty("reason").GetString());
        var runs = await _world.Api.GetFromJsonAsync<JsonElement>("/api/v1/runs?recipe=hr-employee-to-enate-user");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }

    private Task<List<JsonElement>> AllFinished(string recipe, int count) =>
        Eventually.Get(async () => (await _world.Api.GetFromJsonAsync<JsonElement>($"/api/v1/runs?recipe={recipe}"))
                .GetProperty("items").EnumerateArray().ToList(),
            runs => runs.Count == count && runs.All(r => RunStatus.IsFinished(r.GetProperty("status").GetString()!)),
            TimeSpan.FromSeconds(60));
}
