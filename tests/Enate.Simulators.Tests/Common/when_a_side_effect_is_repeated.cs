using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Enate.Simulators.Tests.Common;

public sealed class when_a_side_effect_is_repeated(SimulatorFixture sim) : IClassFixture<SimulatorFixture>
{
    private static HttpRequestMessage PortalMessage(string? key, string subject = "Your invoice")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/portal/messages")
        {
            Content = SimulatorFixture.Json(new { customer = "Acme", subject, body = "Attached." }),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sim-portal-token");
        if (key is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return request;
    }

    private async Task<(JsonObject ByKey, JsonObject Attempts)> EffectsAsync(string app)
    {
        var effects = await sim.GetJsonAsync($"/_sim/{app}/effects");
        return (effects["byKey"]!.AsObject(), effects["attemptsByKey"]!.AsObject());
    }

    [Fact]
    public async Task the_same_idempotency_key_applies_once_and_replays_the_first_answer()
    {
        await sim.ResetAsync("portal");

        using var first = await sim.Client.SendAsync(PortalMessage("run-1-step-2"));
        using var second = await sim.Client.SendAsync(PortalMessage("run-1-step-2", subject: "changed on retry"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var (byKey, attempts) = await EffectsAsync("portal");
        Assert.Equal(1, byKey["run-1-step-2"]!.GetValue<int>());
        Assert.Equal(2, attempts["run-1-step-2"]!.GetValue<int>());
        var messages = await sim.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/portal/messages")
        {
            Headers = { { "Authorization", "Bearer sim-portal-token" } },
        });
        Assert.Single((await messages.Content.ReadFromJsonAsync<JsonArray>())!);
    }

    [Fact]
    public async Task concurrent_requests_with_one_key_still_apply_once()
    {
        await sim.ResetAsync("portal");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => sim.Client.SendAsync(PortalMessage("same-key"))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var (byKey, attempts) = await EffectsAsync("portal");
        Assert.Equal(1, byKey["same-key"]!.GetValue<int>());
        Assert.Equal(8, attempts["same-key"]!.GetValue<int>());
    }

    [Fact]
    public async Task without_a_key_every_request_applies()
    {
        await sim.ResetAsync("portal");

        await sim.Client.SendAsync(PortalMessage(null));
        await sim.Client.SendAsync(PortalMessage(null));

        var (byKey, _) = await EffectsAsync("portal");
        Assert.Equal(2, byKey["(none)"]!.GetValue<int>());
    }

    [Fact]
    public async Task an_enate_user_is_409_when_the_email_exists_unless_it_is_the_same_key()
    {
        await sim.ResetAsync("enate");
        using var enate = await sim.EnateClientAsync();
        var user = new { email = "ada@example.com", firstName = "Ada", lastName = "Lovelace" };
        HttpRequestMessage Create(string key) => new(HttpMethod.Post, "/enate/api/v1/User")
        {
            Content = SimulatorFixture.Json(user),
            Headers = { { "Idempotency-Key", key } },
        };

        using var created = await enate.SendAsync(Create("employee-E1"));
        using var retried = await enate.SendAsync(Create("employee-E1"));
        using var other = await enate.SendAsync(Create("another-run"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        var found = await enate.GetFromJsonAsync<JsonArray>("/enate/api/v1/User?email=ADA@example.com");
        Assert.Equal("Ada", Assert.Single(found!)!["FirstName"]!.GetValue<string>());
        Assert.Equal(1, (await EffectsAsync("enate")).ByKey["employee-E1"]!.GetValue<int>());
    }

    [Fact]
    public async Task a_refused_request_is_not_a_side_effect_and_can_be_retried_with_its_key()
    {
        await sim.ResetAsync("hr");
        await sim.SimPostAsync("/_sim/hr/employees", new { id = "E7", firstName = "Grace", lastName = "Hopper", email = "grace@example.com" });
        HttpRequestMessage Upload(string content) => new(HttpMethod.Post, "/hr/employees/E7/contract")
        {
            Content = SimulatorFixture.Json(new { fileName = "contract.pdf", contentBase64 = content }),
            Headers = { { "X-Api-Key", "sim-hr-key" }, { "Idempotency-Key", "contract-E7" } },
        };

        using var refused = await sim.Client.SendAsync(Upload("not base64!"));
        using var accepted = await sim.Client.SendAsync(Upload(Convert.ToBase64String("%PDF-1.7"u8.ToArray())));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        Assert.Equal(1, (await EffectsAsync("hr")).ByKey["contract-E7"]!.GetValue<int>());
    }
}
