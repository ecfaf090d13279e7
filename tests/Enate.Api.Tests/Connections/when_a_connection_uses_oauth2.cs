using System.Text.Json;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Connections;

public sealed class when_a_connection_uses_oauth2(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task a_rejected_token_is_renewed_once_and_no_token_reaches_the_record()
    {
        await using var partner = await TestPartner.StartAsync();
        partner
            .Then(200, """{"access_token":"tok-first-111","token_type":"Bearer","expires_in":3600}""")
            .Then(401)
            .Then(200, """{"access_token":"tok-second-222","token_type":"Bearer","expires_in":3600}""")
            .Then(200, """{"created":true}""");
        await Api.PutConnection("enate", partner.BaseUrl, new
        {
            type = "oauth2ClientCredentials",
            tokenUrl = partner.BaseUrl + "/oauth/token",
            clientId = "platform",
            clientSecret = "client-secret-333",
        }, kind: "enate");
        await Api.PutRecipe("note", new
        {
            name = "Note",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "note", type = "enate", connection = "enate", operation = "addNote",
                args = new { guid = "{{ input.guid }}", note = "hello" } } },
        });

        var runId = await Api.RequestRun("note", new { guid = "p-1" });
        await Api.WaitForRun(runId, RunStatus.Succeeded);

        var requests = partner.Requests.ToList();
        Assert.Equal(["/oauth/token", "/api/v1/Packet/p-1/Note", "/oauth/token", "/api/v1/Packet/p-1/Note"], requests.Select(r => r.Path));
        Assert.Contains("client_secret=client-secret-333", requests[0].Body);
        Assert.Equal("Bearer tok-first-111", requests[1].Headers["Authorization"]);
        Assert.Equal("Bearer tok-second-222", requests[3].Headers["Authorization"]);

        var record = JsonSerializer.Serialize(await Api.Events(runId));
        Assert.DoesNotContain("tok-first-111", record);
        Assert.DoesNotContain("tok-second-222", record);
        Assert.DoesNotContain("client-secret-333", record);
    }
}
