using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Triggers;

/// JSON may carry U+0000 as "\u0000", which PostgreSQL's jsonb cannot hold, and a body may not be UTF-8 at all, or
/// escape half a surrogate pair. Every trigger route keeps the first exactly and runs it; it refuses the others with
/// 400 problem+json and records the refusal. Nothing answers 500.
public sealed class when_a_body_holds_what_text_cannot(AppFixture app) : AppTest(app)
{
    private const string Nul = "a\u0000b";
    private TestPartner _partner = null!;
    private TestPartner _enate = null!;
    private string _hookPath = "";
    private string _hookSecret = "";
    private string _subscriptionPath = "";
    private string _subscriptionSecret = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        _enate = await TestPartner.StartAsync();
        _enate.Then(201, """{"GUID":"6a1f0c3e-0000-4000-8000-000000000002"}""");
        await Api.PutConnection("crm", _partner.BaseUrl);
        await Api.PutConnection("enate", _enate.BaseUrl, new { type = "bearer", token = "enate-token" }, kind: "enate");
        object Forward(string trigger, string? webhook = null) => new
        {
            name = "Forward " + trigger,
            trigger = webhook is null ? (object)new { type = trigger } : new { type = trigger, webhook },
            steps = new object[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/forward", body = "{{ input | json }}" } },
        };
        await Api.PutRecipe("forward-api", Forward("api"));
        await Api.PutRecipe("forward-hook", Forward("webhook"));
        await Api.PutRecipe("forward-action", Forward("enateAction"));
        await Api.PutRecipe("forward-enate", Forward("enateWebhook", "NewCommunication"));

        var hook = await Api.GetAsJson<JsonElement>("/api/v1/recipes/forward-hook/webhook");
        (_hookPath, _hookSecret) = (new Uri(hook.GetProperty("url").GetString()!).AbsolutePath, hook.GetProperty("secret").GetString()!);
        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { connection = "enate", webhook = "NewCommunication" }).ToUrl("/api/v1/enate/subscriptions");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        _subscriptionPath = new Uri(created.ReadAsJson<JsonElement>().GetProperty("url").GetString()!).AbsolutePath;
        _subscriptionSecret = JsonDocument.Parse(Assert.Single(_enate.Requests).Body).RootElement.GetProperty("CustomHeaderValue").GetString()!;
    }

    public override async Task DisposeAsync()
    {
        await _partner.DisposeAsync();
        await _enate.DisposeAsync();
    }

    /// The same body sent to each trigger route, as its callers send it: (route, status, answer).
    private async Task<List<(string Route, int Status, JsonElement Answer)>> SendEverywhere(byte[] body)
    {
        var answers = new List<(string, int, JsonElement)>();
        async Task Send(string route, string path, Dictionary<string, string> headers)
        {
            var (status, text) = await Api.PostBytes(path, body, headers.Select(h => (h.Key, h.Value)));
            answers.Add((route, status, text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default));
        }

        await Send("api", "/api/v1/recipes/forward-api/runs", new());
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var id = "msg_" + Guid.NewGuid().ToString("N");
        await Send("webhook", _hookPath, new()
        {
            ["Authorization"] = "", ["webhook-id"] = id, ["webhook-timestamp"] = timestamp.ToString(),
            ["webhook-signature"] = StandardWebhookSigner.Sign(_hookSecret, id, timestamp, Encoding.UTF8.GetString(body)),
        });
        await Send("enateAction", "/api/v1/enate/actions/forward-action", new());
        await Send("enateWebhook", _subscriptionPath, new() { ["Authorization"] = "", ["X-Enate-Platform-Secret"] = _subscriptionSecret });
        return answers;
    }

    [Fact]
    public async Task a_nul_in_a_string_is_kept_on_every_trigger_and_reaches_the_partner_intact()
    {
        var body = JsonSerializer.Serialize(new
        {
            Webhook = "NewCommunication",
            Action = new[] { new { Reference = "202234-C" } },
            CallBackURL = _enate.BaseUrl + "/callback",
            Data = new { PacketGUID = Guid.NewGuid(), Subject = Nul },
            subject = Nul,
        });
        Assert.Contains("\\u0000", body);

        var answers = await SendEverywhere(Encoding.UTF8.GetBytes(body));

        Assert.All(answers, a => Assert.Equal(202, a.Status));
        foreach (var (route, _, answer) in answers)
        {
            var runId = answer.TryGetProperty("runId", out var one) ? one.GetGuid() : answer.GetProperty("runIds")[0].GetGuid();
            var run = await Api.WaitForRun(runId, RunStatus.Succeeded);
            Assert.Equal(Nul, run.Input.GetProperty("subject").GetString());
            var inbound = await Api.GetAsJson<JsonElement>($"/api/v1/inbound/{run.InboundId}");
            Assert.Equal(body, inbound.GetProperty("body").GetProperty("text").GetString());
            var events = await Api.Events(runId);
            Assert.Contains(events, e => e.GetProperty("type").GetString() == "StepCompleted");
        }
        Assert.Equal(4, _partner.Requests.Count);
        Assert.All(_partner.Requests, r => Assert.Equal(Nul, JsonDocument.Parse(r.Body).RootElement.GetProperty("subject").GetString()));
    }

    [Theory]
    [InlineData("not UTF-8", new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D })]
    [InlineData("an unpaired surrogate", new byte[] { 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0x5C, 0x75, 0x64, 0x38, 0x30, 0x30, 0x22, 0x7D })]
    // {"\ud800":1}: the half surrogate in a member's name.
    [InlineData("an unpaired surrogate in a name", new byte[] { 0x7B, 0x22, 0x5C, 0x75, 0x64, 0x38, 0x30, 0x30, 0x22, 0x3A, 0x31, 0x7D })]
    public async Task a_body_that_is_no_text_is_400_and_recorded_on_every_trigger(string what, byte[] body)
    {
        var answers = await SendEverywhere(body);

        foreach (var (route, status, answer) in answers)
        {
            Assert.True(status == 400, $"{route} answered {status} to a body that is {what}");
            Assert.Equal("/problems/malformed-json", answer.GetProperty("type").GetString());
        }
        var rejected = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected");
        Assert.Equal(4, rejected.GetProperty("items").EnumerateArray().Count(i => i.GetProperty("status").GetInt32() == 400));
        Assert.Empty(_partner.Requests);
    }

    [Fact]
    public async Task a_key_given_twice_counts_with_its_last_value_on_every_trigger()
    {
        await Api.PutRecipe("filtered-enate", new
        {
            name = "Emails only", trigger = new { type = "enateWebhook", webhook = "NewCommunication", filter = "Data.CommunicationType == 'Email'" },
            steps = new object[] { new { id = "post", type = "http", connection = "crm", method = "POST", path = "/forward", body = "{{ input | json }}" } },
        });
        var body = $$"""
            {"Webhook":"NewCommunication","Action":[{"Reference":"202234-C"}],"CallBackURL":"{{_enate.BaseUrl}}/callback",
             "Data":{"PacketGUID":"{{Guid.NewGuid()}}","CommunicationType":"Letter","CommunicationType":"Email"},"subject":"first","subject":"last"}
            """;

        var answers = await SendEverywhere(Encoding.UTF8.GetBytes(body));

        Assert.All(answers, a => Assert.Equal(202, a.Status));
        // The Enate webhook's filter read the last CommunicationType: both of its recipes ran.
        Assert.Equal(2, answers.Single(a => a.Route == "enateWebhook").Answer.GetProperty("runIds").GetArrayLength());
        foreach (var (_, _, answer) in answers)
        foreach (var id in answer.TryGetProperty("runId", out var one) ? [one] : answer.GetProperty("runIds").EnumerateArray().ToArray())
        {
            var run = await Api.WaitForRun(id.GetGuid(), RunStatus.Succeeded);
            Assert.Equal("last", run.Input.GetProperty("subject").GetString());
        }
    }

    [Fact]
    public async Task a_setting_that_holds_nul_is_refused_before_it_is_stored()
    {
        var recipe = await Api.Scenario(s =>
        {
            s.Put.Text("""{"name":"a\u0000b","trigger":{"type":"api"},"steps":[{"id":"x","type":"transform","select":"input"}]}""")
                .ToUrl("/api/v1/recipes/with-nul");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal("/problems/nul-character", recipe.ReadAsJson<JsonElement>().GetProperty("type").GetString());
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes/with-nul");
            s.StatusCodeShouldBe(404);
        });
    }
}
