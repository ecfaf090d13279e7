using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace Enate.AppHost.Tests;

/// The container mode cannot start here (no container engine), but its model can be built and read.
public sealed class when_postgresql_runs_in_a_container
{
    [Fact]
    public async Task the_server_gets_the_same_checkpoint_settings_as_the_local_one()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Enate_AppHost>(
            ["Postgres:Mode=container"], (options, _) => options.DisableDashboard = true);
        var postgres = builder.Resources.OfType<PostgresServerResource>().Single();

        var args = new List<object>();
        foreach (var callback in postgres.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
            await callback.Callback(new CommandLineArgsCallbackContext(args, postgres));

        Assert.Equal(["-c", "max_wal_size=4GB", "-c", "min_wal_size=1GB", "-c", "checkpoint_timeout=15min"], args.Select(a => a.ToString()));
    }
}
