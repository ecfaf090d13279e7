using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Triggers;

/// Pattern 1: Enate's "Trigger External API" action calls the platform and waits for the callback. The test
/// partner stands in for Enate's callback endpoint here; the simulator tests cover Enate's behaviour.
public sealed class when_an_enate_action_calls(AppFixture app) : AppTest(app)
{
    private TestPartner _enate = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _enate = await TestPartner.StartAsync();
        await Api.PutConnection("enate", _enate.BaseUrl, new { type = "bearer", token = "enate-token-SECRET-1" }, kind: "enate");
        await Api.PutRecipe("onboarding-data", new
        {
            name = "Deal to onboarding data",
            trigger = new { type = "enateAction" },
            workItem = "Action[0].Reference",
            steps = new object[] { new { id = "shape", type = "transform", template = """{"dealId": "{{ input.Action[0].CustomData.DealId }}"}""" } },
            callback = new { mode = "callEnate", connection = "enate", customData = """{"OnboardingDeal": "{{ output.dealId }}"}""" },
        });
    }

    public override async Task DisposeAsync() => await _enate.DisposeAsync();

    private static object Body(string callback, string dealId = "D-77") => new
    {
        Action = new[] { new { GUID = Guid.NewGuid(), Reference = "202234-A", CustomData = new { DealId = dealId } } },
        CallBackURL = callback,
    };

    [Fact]
    public async Task the_run_calls_back_success_with_custom_data_once_and_a_repeat_starts_nothing()
    {
        var callback = $"{_enate.BaseUrl}/api/v1/Actions/{Guid.NewGuid()}/Callback";
        var first = await Trigger(Body(callback), HttpStatusCode.Accepted);
        var again = await Trigger(Body(callback), HttpStatusCode.OK);
        Assert.Equal(first, again);

        var run = await Eventually.Get(async () => (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{first}"))!,
            r => r.Callback is not null);
        Assert.Equal("sent (success)", run.Callback);
        Assert.Equal("202234-A", run.WorkItem);

        var received = Assert.Single(_enate.Requests);
        Assert.EndsWith("/Callback", received.Path);
        Assert.Equal("Bearer enate-token-SECRET-1", received.Headers["Authorization"]);
        var body = JsonDocument.Parse(received.Body).RootElement;
        Assert.Equal("success", body.GetProperty("outcome").GetString());
        Assert.Equal("D-77", body.GetProperty("customData").GetProperty("OnboardingDeal").GetString());
        Assert.Contains("EnateCallbackSent", (await Api.Events(first)).Types());
    }

    [Fact]
    public async Task a_failed_run_calls_back_failure_with_the_reason()
    {
        await Api.PutRecipe("onboarding-data", new
        {
            name = "Deal to onboarding data",
            trigger = new { type = "enateAction" },
            steps = new object[] { new { id = "shape", type = "transform", template = """{"x": {{ input.Nope | missing_filter }}}""" } },
            callback = new { mode = "callEnate", connection = "enate" },
        }, 0);
        var runId = await Trigger(Body($"{_enate.BaseUrl}/api/v1/Actions/{Guid.NewGuid()}/Callback"), HttpStatusCode.Accepted);

        await Eventually.Get(async () => (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}"))!, r => r.Callback is not null);
        var body = JsonDocument.Parse(Assert.Single(_enate.Requests).Body).RootElement;
        Assert.Equal("failure", body.GetProperty("outcome").GetString());
        Assert.Contains("shape", body.GetProperty("rejectedReason").GetString());
    }

    [Theory]
    [InlineData("""{"CallBackURL":"http://enate.example/cb"}""")]
    [InlineData("""{"Action":[],"CallBackURL":"http://enate.example/cb"}""")]
    [InlineData("""{"Action":[{"GUID":"x"}],"CallBackURL":"not a url"}""")]
    [InlineData("""{"Action":[{"GUID":"x"}]}""")]
    public async Task a_body_not_shaped_like_enates_is_422_and_recorded(string body)
    {
        await Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl("/api/v1/enate/actions/onboarding-data");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.UnprocessableEntity);
        });
        var rejected = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected&trigger=enateAction");
        Assert.Single(rejected.GetProperty("items").EnumerateArray());
    }

    private async Task<Guid> Trigger(object body, HttpStatusCode expected)
    {
        var result = await Api.Scenario(s =>
        {
            // Enate's exact casing (Alba's own JSON would be camelCase).
            s.Post.Text(JsonSerializer.Serialize(body)).ToUrl("/api/v1/enate/actions/onboarding-data");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(expected);
        });
        return result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
    }
}
