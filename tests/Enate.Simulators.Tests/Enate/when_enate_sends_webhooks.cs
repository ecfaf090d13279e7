using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enate.Testing;

namespace Enate.Simulators.Tests.Enate;

public sealed class when_enate_sends_webhooks(SimulatorFixture sim) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private TestPartner _receiver = null!;
    private HttpClient _enate = null!;

    public async Task InitializeAsync()
    {
        await sim.ResetAsync("enate");
        _receiver = await TestPartner.StartAsync();
        _enate = await sim.EnateClientAsync();
    }

    public async Task DisposeAsync()
    {
        _enate.Dispose();
        await sim.ResetAsync("enate");
        await _receiver.DisposeAsync();
    }

    private async Task<JsonObject> SubscribeAsync(string webhook, object? filter = null)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(new
        {
            Webhook = webhook,
            SubscriberURL = _receiver.BaseUrl + "/hooks/enate",
            CustomHeader = "X-Platform-Key",
            CustomHeaderValue = "hook-secret-1",
        }))!.AsObject();
        if (filter is not null)
        {
            foreach (var (name, value) in JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(filter))!.AsObject()) body[name] = value?.DeepClone();
        }
        using var response = await _enate.PostAsJsonAsync("/enate/api/v1/WebHookSubscription", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private Task<JsonArray> DeliveriesWhenAsync(Func<JsonArray, bool> done) =>
        Eventually.Get(() => sim.DeliveriesAsync("enate"), done, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task a_new_packet_is_posted_with_the_custom_header()
    {
        var subscription = await SubscribeAsync("PacketCreated");

        var packet = await sim.SimPostAsync("/enate/_sim/packets", new { processType = 2, title = "Invoice query", customerName = "Acme" });

        await DeliveriesWhenAsync(d => d.Count == 1 && d[0]!["state"]!.GetValue<string>() == "delivered");
        var received = Assert.Single(_receiver.Requests);
        Assert.Equal("hook-secret-1", received.Headers["X-Platform-Key"]);
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("PacketCreated", body["Webhook"]!.GetValue<string>());
        Assert.Equal(packet["GUID"]!.GetValue<string>(), body["Data"]!["PacketGUID"]!.GetValue<string>());
        Assert.Equal("Ticket", body["Data"]!["ProcessTypeName"]!.GetValue<string>());
        Assert.Equal("***", subscription["CustomHeaderValue"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_failed_delivery_is_retried_three_times()
    {
        await SubscribeAsync("PacketUpdated");
        var packet = await sim.SimPostAsync("/enate/_sim/packets", new { processType = 1, title = "Onboarding" });
        _receiver.Then(500).Then(500).Then(500).Then(500);

        await sim.Client.PatchAsJsonAsync($"/enate/_sim/packets/{packet["GUID"]}", new { ragStatus = -1 });

        var deliveries = await DeliveriesWhenAsync(d => d.Count == 1 && d[0]!["state"]!.GetValue<string>() == "failed");
        Assert.Equal([500, 500, 500, 500], deliveries[0]!["statusCodes"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.Equal(4, _receiver.Requests.Count);
        Assert.Single(_receiver.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task a_delivery_that_recovers_on_a_retry_is_delivered()
    {
        await SubscribeAsync("PacketUpdated");
        var packet = await sim.SimPostAsync("/enate/_sim/packets", new { processType = 1, title = "Onboarding" });
        _receiver.Then(503).Then(200);

        await sim.Client.PatchAsJsonAsync($"/enate/_sim/packets/{packet["GUID"]}", new { title = "Onboarding (urgent)" });

        var deliveries = await DeliveriesWhenAsync(d => d.Count == 1 && d[0]!["state"]!.GetValue<string>() == "delivered");
        Assert.Equal([503, 200], deliveries[0]!["statusCodes"]!.AsArray().Select(s => s!.GetValue<int>()));
    }

    [Fact]
    public async Task duplicates_are_sent_as_identical_copies()
    {
        await SubscribeAsync("NewCommunication");
        var packet = await sim.SimPostAsync("/enate/_sim/packets", new { processType = 1, title = "Claim", customerName = "Acme" });

        await sim.SimPostAsync("/enate/_sim/communications", new
        {
            packetGuid = packet["GUID"]!.GetValue<string>(),
            from = "client@acme.example",
            cc = "boss@acme.example",
            subject = "Claim documents",
            body = "Please find them attached.",
            attachmentCount = 2,
            duplicates = 2,
        });

        await DeliveriesWhenAsync(d => d.Count == 3 && d.All(x => x!["state"]!.GetValue<string>() == "delivered"));
        Assert.Equal(3, _receiver.Requests.Count);
        var body = JsonNode.Parse(Assert.Single(_receiver.Requests.Select(r => r.Body).Distinct()))!["Data"]!;
        Assert.Equal("Claim documents", body["Subject"]!.GetValue<string>());
        Assert.Equal("boss@acme.example", body["CC"]!.GetValue<string>());
        Assert.Equal(2, body["AttachmentCount"]!.GetValue<int>());
        Assert.Equal(packet["Reference"]!.GetValue<string>(), body["Reference"]!.GetValue<string>());
        Assert.Equal("Email", body["CommunicationType"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_filter_on_a_company_only_lets_that_company_through()
    {
        var acme = await sim.SimPostAsync("/enate/_sim/packets", new { title = "probe", customerName = "Acme" });
        await SubscribeAsync("PacketCreated", new { FilterObjectType = 31, FilterObjectGUID = acme["CustomerGUID"]!.GetValue<string>() });

        await sim.SimPostAsync("/enate/_sim/packets", new { title = "Globex case", customerName = "Globex" });
        await sim.SimPostAsync("/enate/_sim/packets", new { title = "Acme case", customerName = "Acme" });

        await DeliveriesWhenAsync(d => d.Count >= 1 && d.All(x => x!["state"]!.GetValue<string>() == "delivered"));
        await Task.Delay(300);
        var received = Assert.Single(_receiver.Requests);
        Assert.Equal("Acme case", JsonNode.Parse(received.Body)!["Data"]!["Title"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_deleted_subscription_receives_nothing()
    {
        var subscription = await SubscribeAsync("BusinessObjectCreated");
        using var deleted = await _enate.DeleteAsync($"/enate/api/v1/WebHookSubscription/{subscription["GUID"]}");

        await sim.SimPostAsync("/enate/_sim/business-objects", new { businessObjectType = "Supplier", name = "Acme Supplies" });

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Task.Delay(300);
        Assert.Empty(_receiver.Requests);
        Assert.Empty(await sim.DeliveriesAsync("enate"));
    }
}
