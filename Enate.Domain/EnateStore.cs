using Enate.Domain.Audit;
using Enate.Domain.Connections;
using Enate.Domain.Platform;
using Enate.Domain.Recipes;
using Enate.Domain.Inbound;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using JasperFx;
using JasperFx.MultiTenancy;
using Marten.Schema.Indexing.Unique;
using Weasel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wolverine.Marten;

namespace Enate.Domain;

/// The Marten configuration that the API and the Workers share, so both see one schema.
public static class EnateStore
{
    public const string DatabaseName = "enate";
    public const string Schema = "enate";
    public const string WolverineSchema = "wolverine";
    public const string RunQueue = "runs";
    /// The runs a bulk replay starts wait here, not in the run queue, so live runs never queue behind a bulk job; the
    /// Workers take them with a listener of their own (`Enate:Workers:ReplayParallelism`).
    public const string ReplayQueue = "replays";
    /// A bulk replay's steps (AdvanceReplay): a step waits for room among its job's replays, and waits here without
    /// holding a slot that a run needs.
    public const string ReplayJobQueue = "replay_jobs";
    /// Notifications to fan out and deliveries to attempt (docs/notifications.md).
    public const string NotificationQueue = "notifications";
    /// Wolverine's PostgreSQL queues live in this schema, one table per queue named wolverine_queue_{name}.
    public const string QueueSchema = "wolverine_queues";
    /// The table behind the Workers' run queue, written directly by the API's group commit.
    public const string RunQueueTable = $"{QueueSchema}.wolverine_queue_{RunQueue}";
    public const string ReplayQueueTable = $"{QueueSchema}.wolverine_queue_{ReplayQueue}";
    /// Every queue whose messages name a run, for the sweepers that look into them.
    public static readonly string[] RunQueueTables = [RunQueueTable, ReplayQueueTable];
    /// Where a run queue's messages wait that are due later: a retry scheduled after a failure, a tenant's message
    /// waiting for a slot.
    public static readonly string[] RunQueueScheduledTables = RunQueueTables.Select(table => table + "_scheduled").ToArray();
    /// Wakes the Workers' listener on the run queue at once instead of at its next poll (up to a second later): the
    /// notification Wolverine's own senders publish when queue notifications are on (channel and payload as Wolverine
    /// 6.63 names them), sent by the API after a commit that queued runs (WorkersWakeup). Were a Wolverine upgrade to
    /// rename them, only the wakeup would be lost: the listener still polls.
    public const string WakeRunQueue = $"select pg_notify('wolverine_queue_wakeup', '{RunQueueTable}')";
    /// The same wakeup as a statement that returns no rows, to queue in a unit of work: it is sent when the transaction
    /// commits, and not at all if it rolls back.
    public static string Notify(string queueTable) => $"notify wolverine_queue_wakeup, '{queueTable}'";

    /// The pooled connections every process shares. Statements used more than twice are prepared on the server
    /// and kept across pooled uses (Npgsql then resets a returned connection without DISCARD ALL, which would
    /// drop them): the same few inserts run for every request, and parsing and planning them again each time
    /// cost PostgreSQL more than executing them.
    public static void ConfigureConnections(Npgsql.NpgsqlDataSourceBuilder builder)
    {
        builder.ConnectionStringBuilder.MaxAutoPrepare = Math.Max(builder.ConnectionStringBuilder.MaxAutoPrepare, 100);
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
    }

    /// The store every process opens: Marten on the platform database, or on the tenants' databases when some are
    /// placed elsewhere (TenantDatabases), with Wolverine's inbox, outbox and queues beside each database's events, so
    /// a run and its queue message still commit together. Wolverine's own tables (nodes, leadership) are in the
    /// platform database.
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddEnateStore(this IServiceCollection services,
        IConfiguration configuration)
    {
        services.AddSingleton<TenantDatabases>();
        var store = services.AddMarten(Configure);
        store.Services.ConfigureMarten((services, options) => Connect(options, services.GetRequiredService<TenantDatabases>()));
        return store
            .UseLightweightSessions()
            .IntegrateWithWolverine(integration =>
            {
                integration.MessageStorageSchemaName = WolverineSchema;
                integration.TransportSchemaName = QueueSchema;
                integration.MainDatabaseConnectionString = configuration.GetConnectionString(DatabaseName);
            });
    }

    public static void Connect(StoreOptions options, TenantDatabases databases)
    {
        if (databases.Several) options.Tenancy = new PlacedTenancy(options, databases);
        else options.Connection(databases.PlatformSource);
    }

    public static void Configure(StoreOptions options)
    {
        options.DatabaseSchemaName = Schema;
        // Stored JSON leaves out null fields (docs/decisions.md): a run's read model is mostly nulls when it is requested
        // (output, reason, the times still to come), and every named null costs its key in each row and in the WAL.
        // A reader sees a missing field as null; the API's own JSON, written by ASP.NET Core, still shows every field.
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, json =>
        {
            json.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            // Values jsonb cannot hold as they are (U+0000) are kept all the same.
            StoredJson.AddConverters(json);
            // A recipe's JSON written out keeps its members' order, which jsonb would not.
            json.Converters.Add(new JsonTemplate.Stored());
        });
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;

        // Every document and event belongs to one tenant (an Enate client).
        options.Policies.AllDocumentsAreMultiTenanted();
        options.Events.TenancyStyle = TenancyStyle.Conjoined;
        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        options.Events.MetadataConfig.HeadersEnabled = true;
        options.Events.MetadataConfig.CorrelationIdEnabled = true;
        options.Events.MetadataConfig.CausationIdEnabled = true;
        options.Events.AddEventTypes(
        [
            typeof(RunRequested), typeof(RunStarted), typeof(StepStarted), typeof(OutboundRequestSent),
            typeof(OutboundResponseReceived), typeof(OutboundCallFailed), typeof(TransformApplied), typeof(StepCompleted),
            typeof(RetryScheduled), typeof(RunSucceeded), typeof(RunSkipped), typeof(RunFailed), typeof(RunDeadLettered),
            typeof(InboundRequestRecorded), typeof(EnateCallbackSent), typeof(EnateCallbackFailed),
            typeof(Notifications.NotificationQueued), typeof(Notifications.NotificationAttempted), typeof(Notifications.NotificationDelivered),
            typeof(Notifications.NotificationAbandoned), typeof(Notifications.NotificationResent),
        ]);
        // A notification's delivery is a stream: every attempt is an event, in the audit chain like a run's calls.
        options.Projections.Add<Notifications.NotificationDeliveryProjection>(ProjectionLifecycle.Inline);
        options.Schema.For<Notifications.NotificationDelivery>().Index(x => x.EndpointId).Index(x => x.QueuedAt);
        options.Schema.For<Notifications.NotificationEndpoint>();
        options.Projections.Add<InboundRequestProjection>(ProjectionLifecycle.Inline);
        // Lists page by id (version 7: time order), so receivedAt needs no index of its own; the verdict has three
        // values, too few to be worth an index entry per request. The delivery key is the delivery mark: a repeat
        // fails on this index in the transaction that would have started its runs again.
        options.Schema.For<InboundRequest>().Index(x => x.DeliveryKey, index =>
        {
            index.Name = Deliveries.KeyIndex;
            index.IsUnique = true;
            index.TenancyScope = TenancyScope.PerTenant;
            index.Predicate = "data ->> 'deliveryKey' is not null";
        });
        // Found by id before the tenant is known (the request carries no key); each carries its tenant.
        options.Schema.For<Hook>().SingleTenanted();
        options.Schema.For<EnateSubscription>().SingleTenanted();

        // The run summary is updated in the same transaction as the run's events: a list shows a run the
        // moment it is accepted. (Async, built by the Workers' daemon, it lagged unpredictably in tests.)
        options.Projections.Add<RunSummaryProjection>(ProjectionLifecycle.Inline);
        // Quick appends set the stream version in mt_version on the server, never in the JSON: read it from there, so
        // a summary carries its stream version whichever way it was written (inline, a rebuild, a replay of the events).
        options.Schema.For<RunSummary>()
            .Metadata(m => m.Revision.MapTo(x => x.Version))
            .Index(x => x.RecipeKey)
            .Index(x => x.Status)
            // Most runs have no work item: leave them out of its index. No index on requestedAt: the id
            // (version 7) orders and bounds by time.
            .Index(x => x.WorkItem, index => index.Predicate = "data ->> 'workItem' is not null");

        options.Schema.For<Recipe>().Metadata(m => m.TenantId.MapTo(r => r.Tenant!));
        options.Schema.For<ScheduleMark>();
        options.Schema.For<RecipeVersion>();
        options.Schema.For<Connection>().Metadata(m => m.TenantId.MapTo(c => c.Tenant!));
        options.Schema.For<RunIdempotency>();
        ReplayStore.Configure(options);
        // The key ring is the platform's, not a tenant's.
        options.Schema.For<DataProtectionKey>().SingleTenanted();
        // A rebuild re-projects every tenant's read models: it is the platform's, and records who asked.
        options.Schema.For<ProjectionRebuild>().SingleTenanted();
        // A key is looked up before its tenant is known; it carries its tenant as a field.
        options.Schema.For<Enate.Domain.Security.Tenant>().SingleTenanted();
        options.Schema.For<ApiKey>().SingleTenanted().Index(x => x.KeyId).Index(x => x.TenantId);
    }
}
