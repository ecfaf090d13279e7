using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enate.Testing;

namespace Enate.Simulators.Tests.Common;

public sealed class when_a_standard_webhook_is_sent(SimulatorFixture sim) : IClassFixture<SimulatorFixture>, IAsyncLifetime
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(24);
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(Key);
    private TestPartner _receiver = null!;

    public async Task InitializeAsync()
    {
        foreach (var app in new[] { "crm", "hr", "erp", "portal" }) await sim.ResetAsync(app);
        _receiver = await TestPartner.StartAsync();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private async Task RegisterAsync(string app)
    {
        using var response = await sim.Client.PostAsJsonAsync($"/_sim/{app}/webhook-endpoints", new { url = _receiver.BaseUrl + $"/hooks/{app}", secret = Secret });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(Secret[6..], await response.Content.ReadAsStringAsync());
    }

    /// The receiver's check, written from the Standard Webhooks spec rather than with the simulator's code.
    private static bool Verifies(TestPartner.Received received)
    {
        var id = received.Headers["webhook-id"];
        var timestamp = received.Headers["webhook-timestamp"];
        var expected = Convert.ToBase64String(new HMACSHA256(Key).ComputeHash(Encoding.UTF8.GetBytes($"{id}.{timestamp}.{received.Body}")));
        return received.Headers["webhook-signature"].Split(' ').Any(s => s == "v1," + expected);
    }

    private Task<IReadOnlyList<TestPartner.Received>> ReceivedAsync(int count) =>
        Eventually.Get(() => Task.FromResult<IReadOnlyList<TestPartner.Received>>([.. _receiver.Requests]), r => r.Count >= count, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task an_onboarded_employee_is_sent_signed()
    {
        await RegisterAsync("hr");

        using var created = await sim.Client.PostAsJsonAsync("/_sim/hr/employees",
            new { id = "E42", firstName = "Ada", lastName = "Lovelace", email = "ada@example.com", department = "Finance", startDate = "2025-03-01" });

        var received = Assert.Single(await ReceivedAsync(1));
        Assert.True(Verifies(received));
        Assert.Equal(created.Headers.GetValues("X-Sim-Webhook-Id").Single(), received.Headers["webhook-id"]);
        Assert.StartsWith("msg_", received.Headers["webhook-id"]);
        Assert.InRange(long.Parse(received.Headers["webhook-timestamp"]), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("employee.onboarded", body["type"]!.GetValue<string>());
        Assert.Equal("ada@example.com", body["data"]!["email"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("crm", "/_sim/crm/deals", "deal.created")]
    [InlineData("portal", "/_sim/portal/messages", "message.created")]
    public async Task every_webhook_sending_app_signs_its_events(string app, string trigger, string type)
    {
        await RegisterAsync(app);

        await sim.SimPostAsync(trigger, new
        {
            dealname = "Acme onboarding", amount = 5000, company = "Acme",
            contact = new { email = "jo@acme.example", firstname = "Jo", lastname = "Bloggs" },
            customer = "Acme", subject = "Question", body = "Where is my invoice?",
        });

        var received = Assert.Single(await ReceivedAsync(1));
        Assert.True(Verifies(received));
        Assert.Equal(type, JsonNode.Parse(received.Body)!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task changed_exception_types_are_announced_with_their_count()
    {
        await RegisterAsync("erp");

        using var response = await sim.Client.PutAsJsonAsync("/_sim/erp/exception-types",
            new[] { new { code = "PRICE", description = "Price mismatch" }, new { code = "DUP", description = "Duplicate invoice" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(await ReceivedAsync(1));
        Assert.True(Verifies(received));
        Assert.Equal(2, JsonNode.Parse(received.Body)!["data"]!["count"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_bad_signature_does_not_verify()
    {
        await RegisterAsync("portal");

        await sim.SimPostAsync("/_sim/portal/messages", new { customer = "Acme", subject = "Hi", body = "Forged?", badSignature = true });

        Assert.False(Verifies(Assert.Single(await ReceivedAsync(1))));
    }

    [Fact]
    public async Task duplicates_repeat_the_same_message_id()
    {
        await RegisterAsync("crm");

        await sim.SimPostAsync("/_sim/crm/deals", new { dealname = "Globex expansion", duplicates = 2 });

        var received = await ReceivedAsync(3);
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.Headers["webhook-id"]).Distinct());
        Assert.All(received, r => Assert.True(Verifies(r)));
    }

    [Fact]
    public async Task a_failing_receiver_gets_three_retries()
    {
        await RegisterAsync("hr");
        _receiver.Then(500).Then(502).Then(500).Then(500);

        await sim.SimPostAsync("/_sim/hr/employees", new { firstName = "Alan", lastName = "Turing", email = "alan@example.com" });

        var deliveries = await Eventually.Get(() => sim.DeliveriesAsync("hr"), d => d.Count == 1 && d[0]!["state"]!.GetValue<string>() == "failed",
            TimeSpan.FromSeconds(10));
        Assert.Equal([500, 502, 500, 500], deliveries[0]!["statusCodes"]!.AsArray().Select(s => s!.GetValue<int>()));
        Assert.Single(_receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct());
    }

    [Fact]
    public async Task a_secret_without_the_whsec_prefix_is_refused()
    {
        using var response = await sim.Client.PostAsJsonAsync("/_sim/hr/webhook-endpoints", new { url = _receiver.BaseUrl, secret = "plain" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
