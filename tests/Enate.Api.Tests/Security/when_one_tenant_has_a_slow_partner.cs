using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Enate.Api.Tests.Security;

/// One tenant's partner stops answering while it has many runs going. The Workers give it its share of their slots and
/// no more, so another tenant's run still goes through at once instead of waiting behind them.
public sealed class when_one_tenant_has_a_slow_partner(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Slots = 8;
    private const int Share = 4;
    private OwnPlatform _platform = null!;
    private TestPartner _stuck = null!;

    public async Task InitializeAsync()
    {
        _platform = await OwnPlatform.StartAsync(workersSettings: new Dictionary<string, string>
        {
            ["Enate:Workers:Parallelism"] = Slots.ToString(),
            ["Enate:Workers:MaxRunsPerTenant"] = Share.ToString(),
        });
        _stuck = await TestPartner.StartAsync();
        _stuck.Gate = new SemaphoreSlim(0);
    }

    public async Task DisposeAsync()
    {
        await _stuck.DisposeAsync();
        await _platform.DisposeAsync();
    }

    [Fact]
    public async Task another_tenants_run_goes_through_while_its_runs_are_held()
    {
        var api = _platform.Api;
        await TimeRunAsync(api);
        var before = await TimeRunAsync(api);

        var slow = await SeedKeyAsync("slow-tenant");
        await Send(api, slow, s => s.Put.Json(new { kind = "http", baseUrl = _stuck.BaseUrl, auth = new { type = "none" }, timeoutSeconds = 120 })
            .ToUrl("/api/v1/connections/erp"));
        await Send(api, slow, s => s.Put.Json(new
        {
            name = "Order to a partner that hangs", trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "erp", method = "POST", path = "/orders", body = "{}" } },
        }).ToUrl("/api/v1/recipes/order"));
        var held = new List<Guid>();
        for (var i = 0; i < Slots + Share; i++)
        {
            var accepted = await Send(api, slow, s => s.Post.Json(new { i }).ToUrl("/api/v1/recipes/order/runs"));
            held.Add(accepted.GetProperty("runId").GetGuid());
        }
        await Eventually.Get(() => Task.FromResult(_stuck.Requests.Count), n => n >= Share);

        var during = await TimeRunAsync(api);

        output.WriteLine($"the other tenant's run end to end: {before.TotalMilliseconds:0} ms alone, {during.TotalMilliseconds:0} ms while " +
                         $"{held.Count} runs of the slow tenant are held ({during / before:0.0}x)");
        Assert.Equal(Share, _stuck.Requests.Count);
        foreach (var id in held)
            Assert.False(RunStatus.IsFinished((await Send(api, slow, s => s.Get.Url($"/api/v1/runs/{id}"))).GetProperty("status").GetString()!));

        // Once the partner answers, every held run finishes: those put back were not lost.
        _stuck.Gate!.Release(1000);
        foreach (var id in held)
            await Eventually.Get(async () => await Send(api, slow, s => s.Get.Url($"/api/v1/runs/{id}")),
                run => run.GetProperty("status").GetString() == RunStatus.Succeeded ||
                       (RunStatus.IsFinished(run.GetProperty("status").GetString()!) ? throw new Xunit.Sdk.XunitException($"run {id} ended: {run}") : false),
                TimeSpan.FromSeconds(60));
    }

    /// A run of the demo tenant's recipe against its own fast partner, from request to success.
    private static async Task<TimeSpan> TimeRunAsync(IAlbaHost api)
    {
        var watch = Stopwatch.StartNew();
        var runId = await api.RequestRun("order", new { n = 1 });
        await api.WaitForRun(runId, RunStatus.Succeeded, TimeSpan.FromSeconds(30));
        return watch.Elapsed;
    }

    private async Task<string> SeedKeyAsync(string tenant)
    {
        var key = ApiKey.NewKey();
        await using var session = _platform.Api.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        session.Store(new ApiKey
        {
            Id = ApiKey.HashOf(key), KeyId = Guid.CreateVersion7(), TenantId = tenant, Name = "slow tenant", Scopes = [Scopes.Admin],
            CreatedAt = DateTimeOffset.UtcNow,
        });
        await session.SaveChangesAsync();
        return key;
    }

    private static async Task<JsonElement> Send(IAlbaHost api, string key, Action<Scenario> request)
    {
        var result = await api.Scenario(s =>
        {
            request(s);
            s.WithRequestHeader("Authorization", $"Bearer {key}");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });
        var text = await result.ReadAsTextAsync();
        return text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
    }
}
