using Enate.Domain;
using Enate.Domain.Platform;
using Enate.Domain.Runs;
using Enate.Workers.Steps;
using JasperFx.Core;
using JasperFx;
using Marten;
using Wolverine;
using Wolverine.ErrorHandling;
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
            // Later steps and retries stay on this node's durable queue; another node recovers them if it dies.
            options.PublishMessage<ExecuteRun>().ToLocalQueue("steps").UseDurableInbox();
            // Two deliveries of one step race on the stream version: the loser re-reads and finds the step done.
            options.OnException<ConcurrencyException>().RetryWithCooldown(50.Milliseconds(), 200.Milliseconds(), 1.Seconds());
            // The database or network hiccupped: the message stays durable and is tried again.
            options.OnException<Npgsql.NpgsqlException>().RetryWithCooldown(1.Seconds(), 5.Seconds(), 30.Seconds())
                .Then.ScheduleRetry(1.Minutes(), 5.Minutes(), 15.Minutes());
            options.Durability.ScheduledJobPollingTime = 1.Seconds();
        });

        builder.Services.AddEnateDataProtection();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<OutboundCaller>();
        // No automatic retries here: a retry is a recorded, durable, scheduled message.
        builder.Services.AddHttpClient(OutboundCaller.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return builder;
    }
}
