using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// Telemetry, health, service discovery and HttpClient defaults shared by every service.
public static class Extensions
{
    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";

    // Activity sources and meters of the libraries the services run on (Wolverine's meter is "Wolverine:<service>").
    private static readonly string[] Sources = ["Marten", "Wolverine", "Enate"];
    private static readonly string[] Meters = ["Marten", "Wolverine*", "Enate"];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        return builder;
    }

    /// Whether telemetry leaves the process: only when a collector is configured (Aspire sets the endpoint). Without
    /// one (tests, benchmarks, a deployment with no collector) nothing would be exported, so nothing is collected
    /// either: an activity for every request and every SQL command costs the API about a tenth of its CPU under load
    /// (docs/benchmarks.md) and would serve no one. Components that collect on their own (Aspire's Npgsql data
    /// source) are told the same.
    public static bool ExportsTelemetry(this IHostApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!builder.ExportsTelemetry()) return builder;

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(Meters))
            .WithTracing(tracing => tracing.AddPlatformTracing(builder.Environment.ApplicationName))
            .UseOtlpExporter();
        return builder;
    }

    /// What a service traces: requests (not health probes), message handling, outbound calls and database calls, each
    /// under the request or run that caused it; background work with no parent is left out (BackgroundSpans).
    public static TracerProviderBuilder AddPlatformTracing(this TracerProviderBuilder tracing, string serviceName) => tracing
        .AddSource(serviceName)
        .AddSource(Sources)
        .AddAspNetCoreInstrumentation(options =>
            // Probes would drown the traces that matter.
            options.Filter = context =>
                !context.Request.Path.StartsWithSegments(HealthPath) &&
                !context.Request.Path.StartsWithSegments(AlivePath))
        .AddHttpClientInstrumentation()
        .AddNpgsql()
        .AddProcessor(new BackgroundSpans());

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Readiness: every registered check, the database included. 200 when healthy or degraded (a process whose
        // Workers are away still accepts work durably: a balancer keeps it), 503 when unhealthy; the body says which
        // check found what.
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { ResponseWriter = WriteReport }).AllowAnonymous();
        // Liveness: the process answers.
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") }).AllowAnonymous();
        return app;
    }

    /// `{"status": "Degraded", "checks": {"run-queue": {"status": "Degraded", "description": "...", "data": {...}}}}`.
    private static Task WriteReport(Microsoft.AspNetCore.Http.HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data.Count == 0 ? null : e.Value.Data,
            }),
        };
        return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, System.Text.Json.JsonSerializer.Serialize(body,
            new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)
            {
                DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            }));
    }
}
