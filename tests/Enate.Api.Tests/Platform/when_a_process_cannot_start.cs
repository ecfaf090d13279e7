using Enate.Testing;

namespace Enate.Api.Tests.Platform;

/// A process that cannot start says so in its exit code, whatever options it was started with, so that its supervisor
/// (the app host's watchdog, systemd, Kubernetes) starts it again instead of taking it for stopped.
public sealed class when_a_process_cannot_start
{
    [Theory]
    [InlineData("Enate.Api")]
    [InlineData("Enate.Workers")]
    public async Task it_exits_with_1_when_its_database_is_not_there(string project)
    {
        // Nothing listens on this port.
        var database = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=postgres;Database=enate;Timeout=2";
        var (code, output) = await WorkerProcess.RunAsync(project, database, new Dictionary<string, string>(),
            "--urls", $"http://127.0.0.1:{FreePorts.Next()}");
        Assert.True(code == 1, $"exit {code}\n{output}");
        Assert.Contains("Hosting failed to start", output);
    }
}
