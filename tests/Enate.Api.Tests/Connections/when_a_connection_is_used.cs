using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Connections;

/// People running integrations see how a connection's calls went lately: when it last answered well, and when and
/// how it last failed.
public sealed class when_a_connection_is_used(AppFixture app) : PartnerTest(app)
{
    [Fact]
    public async Task its_last_success_and_last_failure_are_shown_and_forgotten_with_it()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await Api.PutRecipe("deal", new
        {
            name = "Deal", trigger = new { type = "api" },
            steps = new[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals" } },
            retry = new { schedule = new[] { "PT0S" }, jitter = 0 },
        });
        await Api.WaitForRun(await Api.RequestRun("deal", new { }), RunStatus.Succeeded);
        var ok = await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/connections/crm"),
            c => c.GetProperty("lastSuccessAt").ValueKind == JsonValueKind.String && c.GetProperty("lastSuccessAt").GetDateTimeOffset() >= before,
            TimeSpan.FromSeconds(30));

        Partner.Then(503);
        await Api.WaitForRun(await Api.RequestRun("deal", new { }), RunStatus.DeadLettered);
        // Earlier tests' calls to a connection of this name may have left a failure: wait for this one's.
        var succeeded = ok.GetProperty("lastSuccessAt").GetDateTimeOffset();
        var failed = await Eventually.Get(() => Api.GetAsJson<JsonElement>("/api/v1/connections?limit=500"),
            page => page.GetProperty("items").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "crm")
                .GetProperty("lastFailureAt") is { ValueKind: JsonValueKind.String } at && at.GetDateTimeOffset() >= succeeded, TimeSpan.FromSeconds(30));
        var crm = failed.GetProperty("items").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "crm");
        Assert.StartsWith("503", crm.GetProperty("lastFailure").GetString());
        Assert.Equal(succeeded, crm.GetProperty("lastSuccessAt").GetDateTimeOffset());

        // Deleted and made again, it starts with no history.
        await Api.Scenario(s =>
        {
            s.Post.Url("/api/v1/recipes/deal/deactivate");
            s.StatusCodeShouldBeOk();
        });
        await Api.Scenario(s =>
        {
            s.Delete.Url("/api/v1/connections/crm");
            s.StatusCodeShouldBe(204);
        });
        await Api.PutConnection("crm", Partner.BaseUrl);
        var fresh = await Api.GetAsJson<JsonElement>("/api/v1/connections/crm");
        Assert.Equal(JsonValueKind.Null, fresh.GetProperty("lastSuccessAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, fresh.GetProperty("lastFailureAt").ValueKind);
    }
}
