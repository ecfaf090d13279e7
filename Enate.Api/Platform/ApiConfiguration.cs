using Enate.Api.Audit;
using Enate.Domain;
using Enate.Api.Runs;
using Enate.Api.Security;
using Enate.Api.Triggers;
using Enate.Domain.Platform;
using Enate.Domain.Outbound;
using Enate.Domain.Connections;
using Enate.Domain.Runs;
using JasperFx;
using JasperFx.CodeGeneration;
using Marten;
using Scalar.AspNetCore;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Postgresql;

namespace Enate.Api.Platform;

public static class ApiConfiguration
{
    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        // One pooled data source (with its health check, and its telemetry when it is exported) serves Marten and Wolverine.
        builder.AddNpgsqlDataSource(EnateStore.DatabaseName,
            settings => settings.DisableTracing = settings.DisableMetrics = !builder.ExportsTelemetry(),
            EnateStore.ConfigureConnections);
        // The same store options as the Workers, append mode included: each process rewrites the event store's
        // append function for its mode at start, and the API in rich mode left the Workers' quick appends failing.
        builder.Services.AddEnateStore(builder.Configuration)
            .ApplyAllDatabaseChangesOnStartup();

        builder.Host.UseWolverine(options =>
        {
            options.ApplicationAssembly = typeof(ApiConfiguration).Assembly;
            options.UseRuntimeCompilation();
            options.Policies.AutoApplyTransactions();
            options.Discovery.DisableConventionalDiscovery();
            // A fresh database just works: Wolverine's tables are created on start.
            options.AutoBuildMessageStorageOnStartup = JasperFx.AutoCreate.CreateOrUpdate;
            options.Policies.UseDurableOutboxOnAllSendingEndpoints();
            // The API only records and hands over: runs execute in the Workers, which listen to this queue.
            options.PublishMessage<ExecuteRun>().ToPostgresqlQueue(EnateStore.RunQueue);
            options.PublishMessage<Enate.Domain.Replays.AdvanceReplay>().ToPostgresqlQueue(EnateStore.ReplayJobQueue);
            options.PublishMessage<Enate.Domain.Replays.CompareRuns>().ToPostgresqlQueue(EnateStore.RunQueue);
            options.PublishMessage<Enate.Domain.Notifications.Notify>().ToPostgresqlQueue(EnateStore.NotificationQueue);
            options.PublishMessage<Enate.Domain.Notifications.DeliverNotification>().ToPostgresqlQueue(EnateStore.NotificationQueue);
            // What it sends through Wolverine wakes the Workers' listeners as the group commit's writes do.
            options.Transports.GetOrCreate<Wolverine.Postgresql.Transport.PostgresqlTransport>().EnableQueueNotifications = true;
            // The API executes nothing, so it takes no part in the cluster: agents (recovery of a dead
            // replica's messages, scheduled retries) belong on the Workers, which have the handlers.
            options.Durability.Mode = DurabilityMode.ServerlessWithOutbox;
        });

        builder.AddRequestGuards();
        builder.AddApiSecurity();
        builder.AddRateLimits();
        builder.Services.AddEnateDataProtection(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<RunStarter>();
        builder.Services.AddSingleton<Tenants.TenantStatus>();
        builder.Services.AddSingleton(new Enate.Domain.Runs.IdempotencyWindow(
            builder.Configuration.GetValue(Enate.Domain.Runs.IdempotencyWindow.Setting, Enate.Domain.Runs.IdempotencyWindow.Default)));
        builder.Services.AddRunQueueWatch();
        builder.Services.AddSingleton<BulkWriter>();
        builder.Services.AddSingleton<GroupCommit>();
        builder.Services.AddSingleton<WorkersWakeup>();
        builder.Services.AddSingleton<InboundRequests>();
        builder.Services.AddSingleton<HookSecrets>();
        builder.Services.AddSingleton<Enate.Api.Recipes.RecipeCache>();
        builder.Services.AddHostedService<Enate.Api.UseCases.UseCaseInstaller>();
        builder.Services.AddHostedService<Enate.Api.Triggers.PublicAddress>();
        builder.AddProjectionRebuilds();
        builder.Services.AddSingleton(Enate.Domain.Audit.AuditProof.From(builder.Configuration));
        builder.Services.AddSingleton<ChainVerification>();
        builder.Services.AddSingleton<ReadModelCheck>();
        // The API calls out only to register subscriptions with Enate, through the same guarded client.
        builder.Services.AddOutboundCalls(builder.Configuration);
        // Dry runs and what-ifs run recipes through the engine the Workers use, with the same limits.
        builder.Services.AddSingleton(services => new Enate.Domain.Engine.RunEngine(services.GetRequiredService<Enate.Domain.Engine.Limits>(),
            services.GetRequiredService<TimeProvider>(), "api"));
        builder.Services.AddWolverineHttp();
        builder.Services.AddOpenApi(OpenApiDescription.Configure);
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        builder.Services.AddExceptionHandler<DatabaseProblems>();
        return builder;
    }

    public static WebApplication UseApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRequestGuards();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapDefaultEndpoints();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        // A query value that does not parse is the client's mistake: 400, never a silent default.
        app.MapWolverineEndpoints(options =>
        {
            options.RejectUnparseableQueryValues = true;
            // Sessions open for the tenant of the caller's API key: another tenant's data is simply not there (404).
            options.TenantId.IsClaimTypeNamed(EnateClaims.Tenant);
        });
        return app;
    }
}
