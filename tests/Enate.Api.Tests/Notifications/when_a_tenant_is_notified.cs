using System.Net;
using System.Text.Json;
using Alba;
using Enate.Api.Tests.Triggers;
using Enate.Domain.Notifications;
using Enate.Domain.Runs;
using Enate.Testing;
using StandardWebhooks;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Notifications;

/// Failure notifications to a tenant's endpoint (a real listener on this machine): signed as Standard Webhooks and
/// checked here by two implementations that are not the platform's, retried, recorded attempt by attempt, re-sent,
/// and an endpoint that keeps failing disabled with the tenant told.
public sealed class when_a_tenant_is_notified(AppFixture app) : PartnerTest(app)
{
    private TestPartner _receiver = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _receiver = await TestPartner.StartAsync();
        // The run's partner refuses the call for good: the run fails.
        await Api.PutRecipe("failing", new
        {
            name = "Failing",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "call", type = "http", connection = "crm", method = "POST", path = "/refuse" } },
        });
    }

    public override async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await base.DisposeAsync();
    }

    private async Task<(Guid Id, string Secret)> Endpoint(string url, params string[] types)
    {
        var created = (await Api.Scenario(s =>
        {
            s.Post.Json(new { url, types, description = "on-call" }).ToUrl("/api/v1/notifications/endpoints");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        })).ReadAsJson<JsonElement>();
        return (created.GetProperty("endpoint").GetProperty("id").GetGuid(), created.GetProperty("secret").GetString()!);
    }

    private async Task<Guid> FailARun()
    {
        Partner.Then(400, """{"error":"no"}""");
        var runId = await Api.RequestRun("failing", new { id = 1 });
        await Api.WaitForRun(runId, RunStatus.Failed);
        return runId;
    }

    private async Task<JsonElement> Delivery(Func<JsonElement, bool> done) =>
        await Eventually.Get(async () => (await Api.GetAsJson<JsonElement>("/api/v1/notifications/deliveries")).GetProperty("items"),
            items => items.GetArrayLength() > 0 && done(items[0]), TimeSpan.FromSeconds(30));

    [Fact]
    public async Task a_failed_run_is_sent_signed_to_the_endpoint_and_every_attempt_is_recorded()
    {
        var (endpointId, secret) = await Endpoint(_receiver.BaseUrl + "/hooks/enate", NotificationTypes.RunFailed);
        var runId = await FailARun();

        var received = (await Eventually.Get(() => Task.FromResult(_receiver.Requests.ToList()), r => r.Count == 1, TimeSpan.FromSeconds(30)))[0];
        Assert.Equal("/hooks/enate", received.Path);
        var id = received.Headers["webhook-id"];
        var timestamp = long.Parse(received.Headers["webhook-timestamp"]);
        Assert.StartsWith("msg_", id);
        Assert.InRange(timestamp, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        // Written from the spec in this test project, and the Standard Webhooks package: both accept the signature.
        Assert.Equal(StandardWebhookSigner.Sign(secret, id, timestamp, received.Body), received.Headers["webhook-signature"]);
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary { ["webhook-id"] = id, ["webhook-timestamp"] = timestamp.ToString(), ["webhook-signature"] = received.Headers["webhook-signature"] };
        new StandardWebhook(secret).Verify(received.Body, headers);

        var body = JsonDocument.Parse(received.Body).RootElement;
        Assert.Equal("run.failed", body.GetProperty("type").GetString());
        Assert.Equal(runId, body.GetProperty("data").GetProperty("runId").GetGuid());
        Assert.Equal("failing", body.GetProperty("data").GetProperty("recipe").GetString());

        var delivery = (await Delivery(d => d.GetProperty("status").GetString() == DeliveryStatus.Delivered))[0];
        Assert.Equal(endpointId, delivery.GetProperty("endpointId").GetGuid());
        Assert.Equal(id, delivery.GetProperty("notificationId").GetString());
        Assert.Equal(200, Assert.Single(delivery.GetProperty("attempts").EnumerateArray()).GetProperty("status").GetInt32());

        // The secret was shown once: in no list, no delivery, no log.
        var listed = await Api.GetAsJson<JsonElement>("/api/v1/notifications/endpoints");
        Assert.DoesNotContain(secret, listed.GetRawText());
        Assert.DoesNotContain(secret, delivery.GetRawText());
        Assert.DoesNotContain(App.Logs.Lines, line => line.Contains(secret));
        // The URL may carry the receiver's own token: deliveries name the endpoint by id, and only admins read endpoints.
        Assert.DoesNotContain("/hooks/enate", delivery.GetRawText());
        var reader = await App.SeedKeyAsync("demo", Enate.Domain.Security.Scopes.RunsRead);
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/notifications/endpoints");
            s.WithRequestHeader("Authorization", $"Bearer {reader}");
            s.StatusCodeShouldBe(HttpStatusCode.Forbidden);
        });
    }

    [Fact]
    public async Task a_refused_attempt_is_tried_again_on_schedule_under_the_same_id_and_can_be_resent()
    {
        _receiver.Then(503);
        await Endpoint(_receiver.BaseUrl + "/notify", NotificationTypes.RunFailed, NotificationTypes.RunDeadLettered);
        await FailARun();

        // At once, then 5 s later (the Svix schedule).
        var delivery = (await Delivery(d => d.GetProperty("status").GetString() == DeliveryStatus.Delivered))[0];
        var attempts = delivery.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([503, 200], attempts.Select(a => a.GetProperty("status").GetInt32()));
        Assert.True(attempts[1].GetProperty("at").GetDateTimeOffset() - attempts[0].GetProperty("at").GetDateTimeOffset() >= TimeSpan.FromSeconds(4.5));
        var requests = _receiver.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Headers["webhook-id"], requests[1].Headers["webhook-id"]);

        var deliveryId = delivery.GetProperty("id").GetGuid();
        await Api.Scenario(s =>
        {
            s.Post.Url($"/api/v1/notifications/deliveries/{deliveryId}/resend");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
        var resent = await Eventually.Get(async () => await Api.GetAsJson<JsonElement>($"/api/v1/notifications/deliveries/{deliveryId}"),
            d => d.GetProperty("attempts").GetArrayLength() == 3 && d.GetProperty("status").GetString() == DeliveryStatus.Delivered,
            TimeSpan.FromSeconds(30));
        Assert.Equal(3, _receiver.Requests.Count);
        Assert.Equal(requests[0].Headers["webhook-id"], _receiver.Requests.Last().Headers["webhook-id"]);
        Assert.Equal(200, resent.GetProperty("attempts")[2].GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task a_delivery_queued_by_a_clock_ahead_of_the_workers_is_still_made()
    {
        var (endpointId, _) = await Endpoint(_receiver.BaseUrl + "/notify", NotificationTypes.RunFailed);
        // Queued as by a replica whose clock runs a minute ahead of the one that takes the message: its first attempt is
        // "due" a minute from now on the taker's clock. The delivery's record, not the clocks, says the message is current.
        var deliveryId = Guid.NewGuid();
        var notificationId = Notify.IdFor(NotificationTypes.RunFailed, deliveryId.ToString());
        await using (var session = App.Store.LightweightSession("demo"))
        {
            session.Events.StartStream<NotificationDelivery>(deliveryId, new NotificationQueued(deliveryId, endpointId, notificationId,
                NotificationTypes.RunFailed, """{"type":"run.failed"}""", DateTimeOffset.UtcNow.AddMinutes(1)));
            await session.SaveChangesAsync();
        }
        await App.Workers.Services.GetRequiredService<Wolverine.IMessageBus>().PublishAsync(
            new DeliverNotification(deliveryId, "demo", Attempts: 0, Round: 0), new Wolverine.DeliveryOptions { TenantId = "demo" });

        var delivered = await Eventually.Get(async () => await Api.GetAsJson<JsonElement>($"/api/v1/notifications/deliveries/{deliveryId}"),
            d => d.GetProperty("status").GetString() != DeliveryStatus.Pending, TimeSpan.FromSeconds(30));
        Assert.Equal(DeliveryStatus.Delivered, delivered.GetProperty("status").GetString());
        Assert.Equal(notificationId, Assert.Single(_receiver.Requests).Headers["webhook-id"]);
    }

    [Fact]
    public async Task an_endpoint_that_fails_for_too_long_is_disabled_and_the_tenant_is_told()
    {
        _receiver.Then(500);
        var (failing, _) = await Endpoint(_receiver.BaseUrl + "/down", NotificationTypes.RunFailed);
        var told = await TestPartner.StartAsync();
        try
        {
            await Endpoint(told.BaseUrl + "/ops", NotificationTypes.EndpointDisabled);
            // It has failed every attempt for six days (the limit is five).
            await using (var session = App.Store.LightweightSession("demo"))
            {
                var endpoint = (await session.LoadAsync<NotificationEndpoint>(failing))!;
                endpoint.FailingSince = DateTimeOffset.UtcNow.AddDays(-6);
                session.Store(endpoint);
                await session.SaveChangesAsync();
            }
            await FailARun();

            var notice = (await Eventually.Get(() => Task.FromResult(told.Requests.ToList()), r => r.Count == 1, TimeSpan.FromSeconds(30)))[0];
            var body = JsonDocument.Parse(notice.Body).RootElement;
            Assert.Equal("endpoint.disabled", body.GetProperty("type").GetString());
            Assert.Equal(failing, body.GetProperty("data").GetProperty("endpointId").GetGuid());
            var endpointNow = await Api.GetAsJson<JsonElement>($"/api/v1/notifications/endpoints/{failing}");
            Assert.NotEqual(JsonValueKind.Null, endpointNow.GetProperty("disabledAt").ValueKind);
            var failed = (await Api.GetAsJson<JsonElement>($"/api/v1/notifications/deliveries?endpoint={failing}")).GetProperty("items")[0];
            Assert.Equal(DeliveryStatus.Failed, failed.GetProperty("status").GetString());

            // Disabled, it is not sent to; a resend is refused until it is enabled.
            await Api.Scenario(s =>
            {
                s.Post.Url($"/api/v1/notifications/deliveries/{failed.GetProperty("id").GetGuid()}/resend");
                s.StatusCodeShouldBe(HttpStatusCode.Conflict);
            });
            await Api.Scenario(s => s.Post.Url($"/api/v1/notifications/endpoints/{failing}/enable"));
            Assert.Equal(JsonValueKind.Null, (await Api.GetAsJson<JsonElement>($"/api/v1/notifications/endpoints/{failing}")).GetProperty("disabledAt").ValueKind);
        }
        finally
        {
            await told.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("""{"url":"ftp://example.com/x","types":["run.failed"]}""", "$.url")]
    [InlineData("""{"url":"https://user:pw@example.com/x","types":["run.failed"]}""", "$.url")]
    [InlineData("""{"url":"https://example.com/x","types":[]}""", "$.types")]
    [InlineData("""{"url":"https://example.com/x","types":["run.failed","run.exploded"]}""", "$.types[1]")]
    public async Task an_endpoint_that_cannot_be_sent_to_is_refused_with_its_path(string request, string path)
    {
        var problem = (await Api.Scenario(s =>
        {
            s.Post.Text(request).ToUrl("/api/v1/notifications/endpoints");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
        })).ReadAsJson<JsonElement>();
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == path);
        Assert.Equal(0, (await Api.GetAsJson<JsonElement>("/api/v1/notifications/endpoints")).GetProperty("items").GetArrayLength());
    }
}
