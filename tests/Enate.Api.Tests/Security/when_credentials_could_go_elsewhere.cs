using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Security;

/// A connection's credentials go to its own origin and nowhere else, whatever a recipe author, a trigger's input or a
/// narrow key tries. For every kind of credential, a listener on another origin ("elsewhere") must receive nothing.
public sealed class when_credentials_could_go_elsewhere(AppFixture app) : AppTest(app)
{
    private TestPartner _partner = null!;
    private TestPartner _elsewhere = null!;
    private TestPartner _tokens = null!;

    public static TheoryData<string> Kinds => ["bearer", "basic", "apiKey", "oauth2ClientCredentials"];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        _elsewhere = await TestPartner.StartAsync();
        _tokens = await TestPartner.StartAsync();
        _tokens.DefaultBody = """{"access_token":"tok_OAUTH_SECRET_9","token_type":"Bearer","expires_in":3600}""";
    }

    public override async Task DisposeAsync()
    {
        await _partner.DisposeAsync();
        await _elsewhere.DisposeAsync();
        await _tokens.DisposeAsync();
    }

    private object Auth(string kind) => kind switch
    {
        "bearer" => new { type = "bearer", token = "tok_BEARER_SECRET_1" },
        "basic" => new { type = "basic", username = "svc", password = "pw_BASIC_SECRET_2" },
        "apiKey" => new { type = "apiKey", header = "X-Api-Key", value = "key_APIKEY_SECRET_3" },
        _ => new { type = "oauth2ClientCredentials", tokenUrl = _tokens.BaseUrl + "/token", clientId = "platform", clientSecret = "cs_CLIENT_SECRET_4" },
    };

    private Task<JsonElement> PutCall(string key, string path, int expectedStatus = 0) => Api.PutRecipe(key, new
    {
        name = "Call",
        trigger = new { type = "api" },
        steps = new object[] { new { id = "call", type = "http", connection = "crm", method = "POST", path, body = "{}" } },
        retry = new { schedule = new[] { "0" } },
    }, expectedStatus);

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task a_static_absolute_path_on_another_origin_is_refused_at_save(string kind)
    {
        await Api.PutConnection("crm", _partner.BaseUrl, Auth(kind));

        var problem = await PutCall("static-elsewhere", _elsewhere.BaseUrl + "/collect", 422);
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == "$.steps[0].path");
        var templated = await PutCall("templated-elsewhere", _elsewhere.BaseUrl + "/collect/{{ input.id }}", 422);
        Assert.Contains(templated.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == "$.steps[0].path");
        var hostFromInput = await PutCall("host-from-input", "http://{{ input.host }}/collect", 422);
        Assert.Contains(hostFromInput.GetProperty("errors").EnumerateArray(), e => e.GetProperty("path").GetString() == "$.steps[0].path");

        await PutCall("own-origin", _partner.BaseUrl + "/deals");
        Assert.Empty(_elsewhere.Requests);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task a_path_a_template_makes_absolute_on_another_origin_fails_without_sending(string kind)
    {
        await Api.PutConnection("crm", _partner.BaseUrl, Auth(kind));
        var saved = await PutCall("raw-url", "{{ input.url | raw }}");
        Assert.Contains(saved.GetProperty("notes").EnumerateArray(), n => n.GetProperty("path").GetString() == "$.steps[0].path");

        var runId = await Api.RequestRun("raw-url", new { url = _elsewhere.BaseUrl + "/collect" });

        var run = await Api.WaitForRun(runId, RunStatus.Failed);
        Assert.Contains("nothing was sent", run.Reason);
        Assert.Empty(_elsewhere.Requests);
        Assert.Empty(_partner.Requests);
        Assert.Empty(_tokens.Requests);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task a_foreign_callback_url_from_a_trigger_key_is_refused_and_recorded(string kind)
    {
        await Api.PutConnection("enate", _partner.BaseUrl, Auth(kind), kind: "enate");
        await Api.PutRecipe("with-callback", new
        {
            name = "Action with callback",
            trigger = new { type = "enateAction" },
            steps = new object[] { new { id = "shape", type = "transform", select = "Action[0]" } },
            callback = new { mode = "callEnate", connection = "enate" },
        });
        var triggerKey = await App.SeedKeyAsync("demo", "runs:trigger");
        var body = new { Action = new[] { new { Reference = "202234-C" } }, CallBackURL = _elsewhere.BaseUrl + "/steal" };

        var result = await Api.Scenario(s =>
        {
            s.Post.Text(JsonSerializer.Serialize(body)).ToUrl("/api/v1/enate/actions/with-callback");
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", $"Bearer {triggerKey}");
            s.StatusCodeShouldBe(422);
        });

        var problem = result.ReadAsJson<JsonElement>();
        Assert.Equal("$.CallBackURL", problem.GetProperty("errors")[0].GetProperty("path").GetString());
        var rejected = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected");
        Assert.Contains(rejected.GetProperty("items").EnumerateArray(), i => i.GetProperty("reason").GetString()!.Contains("CallBackURL"));
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=with-callback");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
        Assert.Empty(_elsewhere.Requests);
    }

    [Fact]
    public async Task a_callback_origin_the_connection_lists_is_called_back()
    {
        await Api.Scenario(s =>
        {
            s.Put.Json(new
            {
                kind = "enate", baseUrl = _partner.BaseUrl, auth = new { type = "bearer", token = "tok_BEARER_SECRET_1" }, timeoutSeconds = 5,
                callbackOrigins = new[] { _elsewhere.BaseUrl },
            }).ToUrl("/api/v1/connections/enate");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });
        await Api.PutRecipe("listed-callback", new
        {
            name = "Action with callback",
            trigger = new { type = "enateAction" },
            steps = new object[] { new { id = "shape", type = "transform", select = "Action[0]" } },
            callback = new { mode = "callEnate", connection = "enate" },
        });
        var result = await Api.Scenario(s =>
        {
            s.Post.Text(JsonSerializer.Serialize(new { Action = new[] { new { Reference = "1-C" } }, CallBackURL = _elsewhere.BaseUrl + "/callback/1" }))
                .ToUrl("/api/v1/enate/actions/listed-callback");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });

        var runId = result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid();
        await Eventually.Get(async () => (await Api.GetAsJson<RunSummary>($"/api/v1/runs/{runId}"))!, run => run.Callback == "sent (success)");
        Assert.Equal("Bearer tok_BEARER_SECRET_1", Assert.Single(_elsewhere.Requests).Headers["Authorization"]);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task a_connection_pointed_elsewhere_needs_its_secret_again(string kind)
    {
        await Api.PutConnection("crm", _partner.BaseUrl, Auth(kind));
        await PutCall("call", "/deals");
        var masked = JsonSerializer.SerializeToElement(Auth(kind)).EnumerateObject()
            .ToDictionary(p => p.Name, p => (object)(p.Name is "token" or "password" or "value" or "clientSecret" ? "***" : p.Value.GetString()!));

        var refused = await Api.Scenario(s =>
        {
            s.Put.Json(new { kind = "http", baseUrl = _elsewhere.BaseUrl, auth = masked, timeoutSeconds = 5 }).ToUrl("/api/v1/connections/crm");
            s.StatusCodeShouldBe(422);
        });
        Assert.StartsWith("$.auth.", refused.ReadAsJson<JsonElement>().GetProperty("errors")[0].GetProperty("path").GetString());
        if (kind == "oauth2ClientCredentials")
        {
            masked["tokenUrl"] = _elsewhere.BaseUrl + "/token";
            await Api.Scenario(s =>
            {
                s.Put.Json(new { kind = "http", baseUrl = _partner.BaseUrl, auth = masked, timeoutSeconds = 5 }).ToUrl("/api/v1/connections/crm");
                s.StatusCodeShouldBe(422);
            });
        }

        var runId = await Api.RequestRun("call", new { id = 1 });
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        Assert.Empty(_elsewhere.Requests);
        Assert.Single(_partner.Requests);
    }

    [Fact]
    public async Task credentials_in_a_url_are_refused_for_auth_to_carry_them()
    {
        // A base URL is shown to every reader of the connection and recorded with every call; a token URL likewise.
        var withUser = new UriBuilder(_partner.BaseUrl) { UserName = "platform", Password = "SEKRET-in-url" }.Uri.ToString();
        var refused = await Api.Scenario(s =>
        {
            s.Put.Json(new { kind = "http", baseUrl = withUser, auth = new { type = "none" }, timeoutSeconds = 5 }).ToUrl("/api/v1/connections/crm");
            s.StatusCodeShouldBe(422);
        });
        Assert.Equal("$.baseUrl", refused.ReadAsJson<JsonElement>().GetProperty("errors")[0].GetProperty("path").GetString());
        var token = await Api.Scenario(s =>
        {
            s.Put.Json(new
            {
                kind = "http", baseUrl = _partner.BaseUrl, timeoutSeconds = 5,
                auth = new { type = "oauth2ClientCredentials", tokenUrl = withUser + "token", clientId = "c", clientSecret = "s" },
            }).ToUrl("/api/v1/connections/crm");
            s.StatusCodeShouldBe(422);
        });
        Assert.Equal("$.auth.tokenUrl", token.ReadAsJson<JsonElement>().GetProperty("errors")[0].GetProperty("path").GetString());
        await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/connections/crm");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task a_template_value_reaches_the_partner_as_one_encoded_segment_or_query_value()
    {
        await Api.PutConnection("crm", _partner.BaseUrl, Auth("bearer"));
        await PutCall("encoded", "/deals/{{ input.id }}/notes?q={{ input.q }}");

        var runId = await Api.RequestRun("encoded", new { id = "../admin/x?y=1#z%2F", q = "a&b=c#d" });

        await Api.WaitForRun(runId, RunStatus.Succeeded);
        var received = Assert.Single(_partner.Requests);
        Assert.Equal("/deals/..%2Fadmin%2Fx%3Fy%3D1%23z%252F/notes?q=a%26b%3Dc%23d", received.RawTarget);

        var dots = await Api.RequestRun("encoded", new { id = "..", q = "" });
        var failed = await Api.WaitForRun(dots, RunStatus.Failed);
        Assert.Contains("'..'", failed.Reason);
        Assert.Single(_partner.Requests);
    }
}
