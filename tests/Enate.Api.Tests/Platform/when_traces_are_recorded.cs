using System.Diagnostics;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Enate.Api.Tests.Platform;

/// The dashboard's traces: a run keeps its whole trace (API request → the Workers' handling → the partner call, with
/// the database calls between), while database calls and agents' housekeeping with no parent make no trace at all.
public sealed class when_traces_are_recorded(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task a_run_keeps_its_whole_trace_and_background_work_makes_none()
    {
        var exported = new List<Activity>();
        // The services' own tracing, exported to memory: it hears every activity of this process, the in-process API's
        // and Workers' included, their queue polling every 100 ms among them.
        using var tracing = Sdk.CreateTracerProviderBuilder().AddPlatformTracing("Enate.Api").AddInMemoryExporter(exported).Build();
        await using var partner = await TestPartner.StartAsync();
        await Api.PutConnection("crm", partner.BaseUrl);
        await Api.PutRecipe("traced", new
        {
            name = "Traced",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals", body = "{{ input | json }}" } },
        });

        // A database call no one asked for, and one made for a piece of work.
        await using var database = NpgsqlDataSource.Create(App.ConnectionString);
        await database.CreateCommand("select 1").ExecuteScalarAsync();
        using var source = new ActivitySource("Enate");
        string workSpan;
        using (var work = source.StartActivity("test work")!)
        {
            workSpan = work.SpanId.ToHexString();
            await database.CreateCommand("select 2").ExecuteScalarAsync();
        }

        var runId = await Api.RequestRun("traced", new { id = 7 });
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        var partnerPort = new Uri(partner.BaseUrl).Port.ToString();
        var trace = await Eventually.Get(() =>
        {
            tracing.ForceFlush();
            lock (exported)
            {
                var request = exported.FirstOrDefault(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") as string == "/api/v1/recipes/traced/runs");
                return Task.FromResult(request is null ? [] : exported.Where(a => a.TraceId == request.TraceId).ToList());
            }
        }, spans => spans.Any(a => a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http" && Equals(a.GetTagItem("server.port")?.ToString(), partnerPort)));

        // One trace from the request to the partner: the Workers' handling of the run sits between, and so do the database calls.
        Assert.Contains(trace, a => a.Source.Name == "Wolverine" && a.OperationName != "send");
        Assert.Contains(trace, a => a.Source.Name == "Npgsql");
        Assert.Single(trace, a => a.ParentSpanId == default);
        // A database call under a piece of work is recorded under it.
        lock (exported) Assert.Contains(exported, a => a.Source.Name == "Npgsql" && a.ParentSpanId.ToHexString() == workSpan);
        // Nothing with no parent is recorded unless someone asked for it: not the test's `select 1`, not the Workers'
        // polling, the daemon or the chainer that ran all along.
        lock (exported)
        {
            var background = exported.Where(a => a.ParentSpanId == default && BackgroundSpans.IsBackground(a.OperationName, a.Source.Name)).ToList();
            Assert.True(background.Count == 0, "Recorded as traces of their own: " +
                string.Join(", ", background.Select(a => $"{a.Source.Name}: {a.DisplayName}").Distinct().Take(10)));
            Assert.DoesNotContain(exported, a => a.Source.Name == "Npgsql" && a.ParentSpanId == default);
        }
    }

    [Fact]
    public async Task a_notification_endpoints_url_stays_out_of_the_trace()
    {
        var exported = new List<Activity>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddPlatformTracing("Enate.Workers").AddInMemoryExporter(exported).Build();
        await using var receiver = await TestPartner.StartAsync();
        // A chat tool's webhook URL: its path is its credential.
        const string secretPath = "/services/T0001/B0002/SEKRETpathTOKEN";
        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { url = receiver.BaseUrl + secretPath, types = new[] { Enate.Domain.Notifications.NotificationTypes.RunFailed } })
                .ToUrl("/api/v1/notifications/endpoints");
            s.StatusCodeShouldBe(System.Net.HttpStatusCode.Created);
        });
        var endpointId = created.ReadAsJson<System.Text.Json.JsonElement>().GetProperty("endpoint").GetProperty("id").GetGuid();
        var deliveryId = Guid.NewGuid();
        await using (var session = App.Store.LightweightSession("demo"))
        {
            session.Events.StartStream<Enate.Domain.Notifications.NotificationDelivery>(deliveryId, new Enate.Domain.Notifications.NotificationQueued(
                deliveryId, endpointId, "msg_traced", Enate.Domain.Notifications.NotificationTypes.RunFailed, """{"type":"run.failed"}""", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        using (var work = new ActivitySource("Enate").StartActivity("test work"))
            await App.Workers.Services.GetRequiredService<Wolverine.IMessageBus>().PublishAsync(
                new Enate.Domain.Notifications.DeliverNotification(deliveryId, "demo", 0, 0), new Wolverine.DeliveryOptions { TenantId = "demo" });

        await Eventually.Get(() => Task.FromResult(receiver.Requests.Count), count => count == 1);
        var spans = await Eventually.Get(() =>
        {
            tracing.ForceFlush();
            lock (exported) return Task.FromResult(exported.ToList());
        }, all => all.Any(a => a.Source.Name == "Enate" && a.DisplayName == "POST notification"));
        Assert.Equal(secretPath, receiver.Requests.Single().Path);
        // The receiver runs in this process too: its own server span is the receiver's, not the platform's.
        var receiverPort = new Uri(receiver.BaseUrl).Port.ToString();
        var leaked = spans.Where(a => !(a.Kind == ActivityKind.Server && a.GetTagItem("server.port")?.ToString() == receiverPort))
            .Where(a => a.TagObjects.Any(t => t.Value?.ToString()?.Contains("SEKRETpathTOKEN") == true) || a.DisplayName.Contains("SEKRETpathTOKEN"))
            .Select(a => $"{a.Source.Name}: {a.DisplayName}").ToList();
        Assert.True(leaked.Count == 0, "The endpoint's URL is in: " + string.Join(", ", leaked));
    }
}
