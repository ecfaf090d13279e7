using Enate.Domain;
using Marten;
using Wolverine;
using Wolverine.Marten;
using Wolverine.Postgresql;

namespace Enate.Workers.Platform;

public static class WorkersConfiguration
{
    public static IHostApplicationBuilder AddWorkers(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource(EnateStore.DatabaseName);
        builder.Services.AddMarten(EnateStore.Configure)
            .UseNpgsqlDataSource()
            .UseLightweightSessions()
            // Replicas share the projections: Wolverine hands each one to a single node at a time.
            .IntegrateWithWolverine(integration =>
            {
                integration.MessageStorageSchemaName = EnateStore.WolverineSchema;
                integration.UseWolverineManagedEventSubscriptionDistribution = true;
            })
            .ApplyAllDatabaseChangesOnStartup();

        builder.Services.AddWolverine(options =>
        {
            // Explicit, so the handlers are found when a test host (not this program) is the entry assembly.
            options.ApplicationAssembly = typeof(WorkersConfiguration).Assembly;
            options.UseRuntimeCompilation();
            options.Policies.AutoApplyTransactions();
            options.Policies.UseDurableLocalQueues();
            options.Policies.UseDurableInboxOnAllListeners();
            // Every replica competes for the runs the API hands over.
            options.ListenToPostgresqlQueue(EnateStore.RunQueue);
        });
        return builder;
    }
}
