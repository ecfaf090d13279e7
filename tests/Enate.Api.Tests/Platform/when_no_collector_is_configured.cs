using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Enate.Api.Tests.Platform;

/// Without OTEL_EXPORTER_OTLP_ENDPOINT nothing would be exported, so nothing is collected: no tracer or meter provider
/// in either process, not even the one Aspire's Npgsql data source registers on its own (it traced every SQL command,
/// building each command's text for an activity no one read).
public sealed class when_no_collector_is_configured(AppFixture app) : AppTest(app)
{
    [Fact]
    public void neither_the_api_nor_the_workers_collects_traces_or_metrics()
    {
        Assert.Null(App.Api.Services.GetService<TracerProvider>());
        Assert.Null(App.Api.Services.GetService<MeterProvider>());
        Assert.Null(App.Workers.Services.GetService<TracerProvider>());
        Assert.Null(App.Workers.Services.GetService<MeterProvider>());
    }
}
