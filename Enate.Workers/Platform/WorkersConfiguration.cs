using Enate.Domain;
using Enate.Domain.Platform;
using Enate.Domain.Runs;
using Enate.Domain.Outbound;
using Enate.Domain.Engine;
using JasperFx.Events.Daemon;
using JasperFx.Core;
using JasperFx;
using Marten;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Marten;
using Wolverine.Postgresql;
using Wolverine.Postgresql.Transport;

namespace Enate.Workers.Platform;

public static class WorkersConfiguration
{
    /// Run messages each listener handles at once: runs mostly wait on partners, so many more than the cores.
    public const int DefaultParallelism = 32;
    /// Bulk replays' runs each replica handles at once, beside the live ones.
    public const int DefaultReplayParallelism = 4;
    /// How long a handled message stays in the inbox for Wolverine's duplicate check, and how often they are swept
    /// (Wolverine's defaults: five minutes, every minute).
    public static readonly TimeSpan DefaultKeepHandled = TimeSpan.FromSeconds(1);
    /// A run message that failed on the database is tried again in place after these pauses, then scheduled after
    /// these (the last repeated for as long as the database is away).
    private static readonly TimeSpan[] RetryAtOnce = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)];
    private static readonly TimeSpan[] RetryLater = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)];
    /// How long one message's handling may take before Wolverine cancels it (its default is 60 s): a run's message
    /// makes calls for up to its budget and may then start one more, which its connection lets wait up to 300 s; a
    /// minute more for the database. Cancelled sooner, a call the connection still waits for would be given up.
    public static readonly TimeSpan ExecutionTimeout =
        Runs.ExecuteRunHandler.Budget + TimeSpan.FromSeconds(Enate.Domain.Connections.Connection.MaxTimeoutSeconds) + TimeSpan.FromMinutes(1);

    public static IHostApplicationBuilder AddWorkers(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource(EnateStore.DatabaseName,
            settings => settings.DisableTracing = settings.DisableMetrics = !builder.ExportsTelemetry(),
            EnateStore.ConfigureConnections);
        builder.Services.AddEnateStore(builder.Configuration)
            // Replicas share the projections and subscriptions: one node at a time runs them (an advisory
            // lock in PostgreSQL), another takes over when it dies.
            .AddAsyncDaemon(DaemonMode.HotCold)
            .ApplyAllDatabaseChangesOnStartup()
            // A handler's session keeps what it loaded, and the inline projections look there first: a run's summary,
            // read with its stream, is not read again before the step's commit (RunReads).
            .UseIdentitySessions();
        builder.Services.ConfigureMarten(options => options.Events.UseIdentityMapForAggregates = true);

        builder.Services.AddWolverine(options =>
        {
            // Explicit, so the handlers are found when a test host (not this program) is the entry assembly.
            options.ApplicationAssembly = typeof(WorkersConfiguration).Assembly;
            options.UseRuntimeCompilation();
            options.Policies.AutoApplyTransactions();
            // A fresh database just works: Wolverine's tables are created on start.
            options.AutoBuildMessageStorageOnStartup = JasperFx.AutoCreate.CreateOrUpdate;
            options.Policies.UseDurableInboxOnAllListeners();
            // Every replica competes for the runs the API hands over. The API's commit wakes the listeners
            // (EnateStore.WakeRunQueue), as Wolverine's own senders wake a queue's listeners, so a message starts at once.
            // Each listener also polls its queue, in case a wakeup is lost, every second: each poll first scans the inbox
            // for copies of its queue's rows, and four queues polled every 100-250 ms cost PostgreSQL about a seventh of its
            // CPU per run under load (docs/decisions.md, 87).
            var parallelism = builder.Configuration.GetValue("Enate:Workers:Parallelism", DefaultParallelism);
            var pollEvery = builder.Configuration.GetValue("Enate:Workers:PollEvery", TimeSpan.FromSeconds(1));
            // A poll takes twice as many runs as the listeners handle at once. Wolverine waits 250 ms (or a wakeup) after a
            // full batch before it polls again: with its default of 20, a burst drained at 80 runs a second between wakeups,
            // however fast the runs went (docs/decisions.md, 62).
            options.ListenToPostgresqlQueue(EnateStore.RunQueue).PollingInterval(pollEvery).MaximumParallelMessages(parallelism)
                .MaximumMessagesToReceive(builder.Configuration.GetValue("Enate:Workers:QueueBatch", parallelism * 2));
            options.Transports.GetOrCreate<PostgresqlTransport>().EnableQueueNotifications = true;
            // A run's later steps and retries stay on the replica that started it, in a durable queue:
            // no polling between steps, and a replica that dies leaves its messages to the others.
            options.PublishMessage<ContinueRun>().ToLocalQueue("steps").UseDurableInbox();
            options.LocalQueue("steps").MaximumParallelMessages(parallelism);
            options.PublishMessage<SendEnateCallback>().ToLocalQueue("steps");
            // A run replayed alone starts from the run queue, as a live run does. A bulk replay's runs wait in a queue of
            // their own, taken by fewer listeners, so they use what live runs leave and never sit ahead of one; its
            // steps, which wait for room among its runs, in another.
            options.PublishMessage<ExecuteRun>().ToPostgresqlQueue(EnateStore.RunQueue);
            options.PublishMessage<ReplayRun>().ToPostgresqlQueue(EnateStore.ReplayQueue);
            // A bulk replay's step queues up to half its in-flight limit at once and wakes the listener once: a poll takes them
            // all, where Wolverine's default of 20 would wait 250 ms after each full batch.
            options.ListenToPostgresqlQueue(EnateStore.ReplayQueue).PollingInterval(pollEvery)
                .MaximumParallelMessages(builder.Configuration.GetValue("Enate:Workers:ReplayParallelism", DefaultReplayParallelism))
                .MaximumMessagesToReceive(builder.Configuration.GetValue("Enate:Workers:ReplayQueueBatch", Enate.Domain.Replays.BulkReplay.DefaultConcurrency));
            options.PublishMessage<Enate.Domain.Replays.AdvanceReplay>().ToPostgresqlQueue(EnateStore.ReplayJobQueue);
            options.ListenToPostgresqlQueue(EnateStore.ReplayJobQueue).PollingInterval(pollEvery).MaximumParallelMessages(4);
            options.PublishMessage<Enate.Domain.Replays.CompareRuns>().ToPostgresqlQueue(EnateStore.RunQueue);
            // Notifications and their deliveries' attempts, retries included (scheduled in the queue), in a queue of their own.
            options.PublishMessage<Enate.Domain.Notifications.Notify>().ToPostgresqlQueue(EnateStore.NotificationQueue);
            options.PublishMessage<Enate.Domain.Notifications.DeliverNotification>().ToPostgresqlQueue(EnateStore.NotificationQueue);
            options.ListenToPostgresqlQueue(EnateStore.NotificationQueue).PollingInterval(pollEvery).MaximumParallelMessages(8);
            // A run message that cannot succeed by being tried again goes to the dead letters, and its run says why.
            options.Policies.OnException<Exception>(Runs.RunFailures.IsPermanent).MoveToErrorQueue().And(Runs.RunFailures.RecordAsync);
            // Two deliveries of one step race on the stream version: the loser re-reads and finds the step done. A race
            // that outlasts the quick retries is tried for a while like a database error, then the run records why it ended.
            options.OnException<ConcurrencyException>().RetryWithCooldown(50.Milliseconds(), 200.Milliseconds(), 1.Seconds())
                .Then.ScheduleRetry(RetryLater)
                .Then.MoveToErrorQueue().And(Runs.RunFailures.RecordAsync);
            // The database is away: the message stays durable and is tried again until it is back, every 15 minutes at
            // the longest, so an outage of any length delays runs and fails none.
            options.OnException<Exception>(Runs.RunFailures.IsDatabaseAway).RetryWithCooldown(RetryAtOnce)
                .Then.ScheduleRetryIndefinitely(RetryLater);
            // Another failure of the database's own, or a handling cancelled or timed out: tried again for about 21
            // minutes, then the dead letters, and the run records why it ended, so it can be seen and replayed.
            options.OnException<Exception>(Runs.RunFailures.IsWorthRetrying).RetryWithCooldown(RetryAtOnce)
                .Then.ScheduleRetry(RetryLater)
                .Then.MoveToErrorQueue().And(Runs.RunFailures.RecordAsync);
            options.DefaultExecutionTimeout = ExecutionTimeout;
            options.Durability.ScheduledJobPollingTime = 1.Seconds();
            // A handled message's inbox row is kept for Wolverine's duplicate check only briefly, and swept as often as rows
            // expire (every second to every minute): each durable poll of a queue first looks for its rows in the inbox, so
            // the inbox's size is paid on every poll. Every handler here is idempotent by its stream's state, which is what
            // absorbs a later copy (docs/decisions.md, 65).
            var keepHandled = builder.Configuration.GetValue("Enate:Workers:KeepHandled", DefaultKeepHandled);
            options.Durability.KeepAfterMessageHandling = keepHandled;
            options.Durability.HandledMessageCleanupPollingTime = TimeSpan.FromSeconds(Math.Clamp(keepHandled.TotalSeconds, 1, 60));
            // A replica that died (killed, machine lost) is noticed within seconds, and the
            // messages it owned, a run's step among them, are released to the replicas alive.
            options.Durability.HealthCheckPollingTime = 3.Seconds();
            options.Durability.StaleNodeTimeout = 10.Seconds();
            options.Durability.NodeReassignmentPollingTime = 3.Seconds();
        });

        builder.Services.AddEnateDataProtection(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOutboundCalls(builder.Configuration);
        builder.Services.AddSingleton(services => new RunEngine(services.GetRequiredService<Limits>(),
            services.GetRequiredService<TimeProvider>(), Environment.MachineName));
        builder.Services.AddSingleton(new Runs.TenantSlots(
            builder.Configuration.GetValue("Enate:Workers:MaxRunsPerTenant", DefaultParallelism * 3 / 4), TimeSpan.FromMilliseconds(250)));
        builder.Services.AddSingleton(Enate.Domain.Audit.AuditProof.From(builder.Configuration));
        builder.Services.AddHostedService<Audit.AuditChainer>();
        builder.Services.AddHostedService<Runs.RunQueueGuard>();
        builder.Services.AddHostedService<Runs.StuckRuns>();
        builder.Services.AddHostedService<Runs.ExpiredKeys>();
        builder.Services.AddHostedService<Connections.ConnectionActivityWriter>();
        builder.Services.AddRunQueueWatch();
        builder.Services.AddSingleton<Schedules.Scheduler>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Schedules.Scheduler>());
        return builder;
    }
}
