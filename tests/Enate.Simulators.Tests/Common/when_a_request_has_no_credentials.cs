using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Enate.Simulators.Tests.Common;

public sealed class when_a_request_has_no_credentials(SimulatorFixture sim) : IClassFixture<SimulatorFixture>
{
    [Theory]
    [InlineData("/enate/api/v1/Packet/Search?customerName=Acme", null, null)]
    [InlineData("/enate/api/v1/Packet/Search?customerName=Acme", "Authorization", "Bearer made-up-token")]
    [InlineData("/crm/deals", null, null)]
    [InlineData("/crm/deals", "Authorization", "Bearer sim-portal-token")]
    [InlineData("/hr/employees", "X-Api-Key", "sim-payroll-key")]
    [InlineData("/erp/exception-types", "Authorization", "Basic ZXJwOndyb25n")]
    [InlineData("/payroll/batches/B-1", null, null)]
    [InlineData("/portal/messages", "Authorization", "Bearer sim-crm-token")]
    public async Task it_is_refused_with_401(string path, string? header, string? value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (header is not null) request.Headers.TryAddWithoutValidation(header, value);

        using var response = await sim.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/crm/deals", "Authorization", "Bearer sim-crm-token")]
    [InlineData("/hr/employees", "X-Api-Key", "sim-hr-key")]
    [InlineData("/erp/exception-types", "Authorization", "Basic erp:sim-erp-pass")]
    [InlineData("/portal/messages", "Authorization", "Bearer sim-portal-token")]
    public async Task the_documented_credentials_are_accepted(string path, string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (value.StartsWith("Basic ", StringComparison.Ordinal))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(value[6..])));
        }
        else
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await sim.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task an_enate_token_from_the_client_credentials_exchange_is_accepted()
    {
        using var enate = await sim.EnateClientAsync();

        using var response = await enate.GetAsync("/enate/api/v1/Packet/Search?customerName=Acme");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task a_wrong_client_secret_gets_no_token()
    {
        using var response = await sim.Client.PostAsync("/enate/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "enate-platform",
            ["client_secret"] = "guessed",
        }));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("access_token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task the_recording_keeps_the_request_but_not_the_secrets()
    {
        await sim.ResetAsync("enate");
        await sim.EnateTokenAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/enate/api/v1/Packet/Search");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer secret-looking-value");
        await sim.Client.SendAsync(request);

        var recorded = (await sim.GetJsonAsync("/_sim/enate/requests")).ToJsonString();

        Assert.Contains("/enate/oauth2/token", recorded);
        Assert.Contains("/enate/api/v1/Packet/Search", recorded);
        Assert.DoesNotContain("sim-enate-secret", recorded);
        Assert.DoesNotContain("secret-looking-value", recorded);
    }
}
