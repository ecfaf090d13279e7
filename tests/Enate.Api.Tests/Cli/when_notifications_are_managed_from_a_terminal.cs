using System.Text.Json.Nodes;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Cli;

/// `enate notifications`: an endpoint registered with its secret shown once, listed without it, a failed run's
/// delivery seen and sent again, the endpoint removed.
public sealed class when_notifications_are_managed_from_a_terminal(AppFixture app) : PartnerTest(app), IDisposable
{
    private readonly CommandLine _enate = new(app);

    private static JsonNode Json(CommandLine.Result result) => JsonNode.Parse(result.Out) ?? throw new InvalidOperationException(result.ToString());

    [Fact]
    public async Task an_endpoint_is_added_its_delivery_resent_and_it_is_removed()
    {
        await using var receiver = await TestPartner.StartAsync();
        await _enate.LoginAsync(AppFixture.AdminKey);
        var added = await _enate.RunAsync("notifications", "add", receiver.BaseUrl + "/ops", "--type", "run.failed", "--description", "on-call", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var secret = Json(added)["secret"]!.GetValue<string>();
        var endpointId = Json(added)["endpoint"]!["id"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);

        var listed = await _enate.RunAsync("notifications", "ls", "--json");
        Assert.Equal(endpointId, Json(listed)[0]!["id"]!.GetValue<string>());
        Assert.DoesNotContain(secret, listed.Out);

        await Api.PutRecipe("refused", new
        {
            name = "Refused",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "call", type = "http", connection = "crm", method = "POST", path = "/no" } },
        });
        Partner.Then(400);
        await Api.WaitForRun(await Api.RequestRun("refused", new { }), RunStatus.Failed);
        var delivered = await Eventually.Get(async () => Json(await _enate.RunAsync("notifications", "deliveries", "--status", "delivered", "--json")),
            page => page["items"]!.AsArray().Count == 1, TimeSpan.FromSeconds(30));
        var deliveryId = delivered["items"]![0]!["id"]!.GetValue<string>();

        var resent = await _enate.RunAsync("notifications", "resend", deliveryId);
        Assert.True(resent.ExitCode == 0, resent.ToString());
        await Eventually.Get(() => Task.FromResult(receiver.Requests.Count), n => n == 2, TimeSpan.FromSeconds(30));
        Assert.Single(receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct());

        Assert.Equal(0, (await _enate.RunAsync("notifications", "rm", endpointId)).ExitCode);
        Assert.Empty(Json(await _enate.RunAsync("notifications", "ls", "--json")).AsArray());
        // A type the platform does not know is the API's 422, exit 1, with the field named.
        var refused = await _enate.RunAsync("notifications", "add", receiver.BaseUrl, "--type", "run.exploded");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("$.types[0]", refused.Error);
    }

    public void Dispose() => _enate.Dispose();
}
