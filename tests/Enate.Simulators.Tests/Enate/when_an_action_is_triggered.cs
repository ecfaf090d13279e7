using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enate.Testing;

namespace Enate.Simulators.Tests.Enate;

public sealed class when_an_action_is_triggered(SimulatorFixture sim) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private TestPartner _platform = null!;

    public async Task InitializeAsync() => _platform = await TestPartner.StartAsync();
    public async Task DisposeAsync() => await _platform.DisposeAsync();

    private async Task<string> NewActionAsync()
    {
        var action = await sim.SimPostAsync("/enate/_sim/packets", new
        {
            processType = 3,
            title = "Fetch purchase order",
            customerName = "Acme",
            customData = new Dictionary<string, string> { ["PONumber"] = "PO-1001" },
        });
        Assert.EndsWith("-A", action["Reference"]!.GetValue<string>());
        return action["GUID"]!.GetValue<string>();
    }

    private async Task<JsonObject> TriggerAsync(string guid, double timeoutSeconds = 30)
    {
        _platform.Then(202, """{"runId":"r-1"}""");
        using var response = await sim.Client.PostAsJsonAsync($"/enate/_sim/actions/{guid}/trigger",
            new { url = _platform.BaseUrl + "/triggers/enate", apiKey = "platform-key", timeoutSeconds });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"runId":"r-1"}""", await response.Content.ReadAsStringAsync());
        var received = Assert.Single(_platform.Requests);
        Assert.Equal("Bearer platform-key", received.Headers["Authorization"]);
        return JsonNode.Parse(received.Body)!.AsObject();
    }

    private async Task<JsonObject> PacketAsync(HttpClient enate, string guid) =>
        (await enate.GetFromJsonAsync<JsonObject>($"/enate/api/v1/Packet/{guid}"))!;

    [Fact]
    public async Task the_integration_receives_the_action_and_a_callback_url_while_it_waits()
    {
        var guid = await NewActionAsync();
        using var enate = await sim.EnateClientAsync();

        var sent = await TriggerAsync(guid);

        var action = Assert.Single(sent["Action"]!.AsArray())!;
        Assert.Equal(guid, action["GUID"]!.GetValue<string>());
        Assert.Equal("PO-1001", action["CustomData"]!["PONumber"]!.GetValue<string>());
        Assert.Equal($"{sim.BaseUrl}/enate/api/v1/Actions/{guid}/Callback", sent["CallBackURL"]!.GetValue<string>());
        Assert.Equal("In Progress", (await PacketAsync(enate, guid))["StatusName"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_successful_callback_closes_the_action_and_merges_custom_data()
    {
        var guid = await NewActionAsync();
        using var enate = await sim.EnateClientAsync();
        var callback = (await TriggerAsync(guid))["CallBackURL"]!.GetValue<string>();

        using var response = await enate.PostAsJsonAsync(callback, new { outcome = "success", customData = new Dictionary<string, string> { ["Supplier"] = "Acme Supplies Ltd" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var action = await PacketAsync(enate, guid);
        Assert.Equal(5, action["Status"]!.GetValue<int>());
        Assert.Equal("Closed", action["StatusName"]!.GetValue<string>());
        Assert.Equal("Done Successfully", action["ResolutionReason"]!.GetValue<string>());
        Assert.Equal("Acme Supplies Ltd", action["CustomData"]!["Supplier"]!.GetValue<string>());
        Assert.Equal("PO-1001", action["CustomData"]!["PONumber"]!.GetValue<string>());
    }

    [Fact]
    public async Task a_failure_callback_returns_the_action_to_to_do_with_the_reason()
    {
        var guid = await NewActionAsync();
        using var enate = await sim.EnateClientAsync();
        var callback = (await TriggerAsync(guid))["CallBackURL"]!.GetValue<string>();

        using var response = await enate.PostAsJsonAsync(callback, new { outcome = "failure", rejectedReason = "PO-1001 is on hold in the ERP" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var action = await PacketAsync(enate, guid);
        Assert.Equal("To Do", action["StatusName"]!.GetValue<string>());
        Assert.Equal("Updated by Integration", action["ResolutionReason"]!.GetValue<string>());
        Assert.Equal("PO-1001 is on hold in the ERP", action["RejectedReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task no_callback_within_the_timeout_returns_it_to_to_do_and_a_late_callback_is_409()
    {
        var guid = await NewActionAsync();
        using var enate = await sim.EnateClientAsync();
        var callback = (await TriggerAsync(guid, timeoutSeconds: 0.5))["CallBackURL"]!.GetValue<string>();

        var action = await Eventually.Get(() => PacketAsync(enate, guid), a => a["StatusName"]!.GetValue<string>() == "To Do",
            TimeSpan.FromSeconds(10));
        using var late = await enate.PostAsJsonAsync(callback, new { outcome = "success" });

        Assert.Equal("Timeout", action["ResolutionReason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("To Do", (await PacketAsync(enate, guid))["StatusName"]!.GetValue<string>());
    }

    [Fact]
    public async Task the_callback_needs_an_enate_token()
    {
        var guid = await NewActionAsync();
        var callback = (await TriggerAsync(guid))["CallBackURL"]!.GetValue<string>();

        using var response = await sim.Client.PostAsJsonAsync(callback, new { outcome = "success" });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task a_second_callback_after_closing_is_409_unless_it_repeats_the_idempotency_key()
    {
        var guid = await NewActionAsync();
        using var enate = await sim.EnateClientAsync();
        var callback = (await TriggerAsync(guid))["CallBackURL"]!.GetValue<string>();
        HttpRequestMessage Callback(string key) => new(HttpMethod.Post, callback)
        {
            Content = SimulatorFixture.Json(new { outcome = "success" }),
            Headers = { { "Idempotency-Key", key } },
        };

        using var first = await enate.SendAsync(Callback("cb-1"));
        using var retry = await enate.SendAsync(Callback("cb-1"));
        using var other = await enate.SendAsync(Callback("cb-2"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
    }
}
