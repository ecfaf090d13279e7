using System.Text.Json;
using Enate.Domain.Runs;
using Enate.Testing;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Runs;

/// The sweeper is the safety net behind the engine: a run that nothing moves on — planted here by writing its first
/// event with no message to the Workers — is reported, and a run that finishes normally is not.
public sealed class when_a_run_is_stranded : IAsyncLifetime
{
    private OwnPlatform _platform = null!;

    public async Task InitializeAsync() => _platform = await OwnPlatform.StartAsync(workersSettings: new Dictionary<string, string>
    {
        ["Enate:Workers:StuckAfter"] = "00:00:01",
        ["Enate:Workers:StuckCheckEvery"] = "00:00:00.500",
    });

    public async Task DisposeAsync() => await _platform.DisposeAsync();

    [Fact]
    public async Task the_sweeper_reports_it_and_nothing_else()
    {
        var finished = await _platform.Api.RequestRun("order", new { n = 1 });
        await _platform.Api.WaitForRun(finished, RunStatus.Succeeded);

        var stranded = Guid.CreateVersion7();
        await using (var session = _platform.Api.Services.GetRequiredService<IDocumentStore>().LightweightSession("demo"))
        {
            session.Events.StartStream<Run>(stranded, new RunRequested(stranded, "order", 1, "api", JsonSerializer.SerializeToElement(new { n = 2 }),
                null, null, null, "test", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }

        await Eventually.Get(() => Task.FromResult(_platform.WorkersLogs.Lines.Count(l => l.Contains(stranded.ToString()))), n => n > 0);
        Assert.DoesNotContain(_platform.WorkersLogs.Lines, l => l.Contains(finished.ToString()) && l.Contains("nothing scheduled"));
    }
}
