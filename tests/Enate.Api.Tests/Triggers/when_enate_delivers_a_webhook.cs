using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Triggers;

/// Pattern 3's entry: a subscription registered with Enate, then Enate's deliveries (with its repeats).
public sealed class when_enate_delivers_a_webhook(AppFixture app) : AppTest(app)
{
    private TestPartner _enate = null!;
    private string _path = "";
    private string _secret = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _enate = await TestPartner.StartAsync();
        _enate.Then(201, """{"GUID":"6a1f0c3e-0000-4000-8000-000000000001"}""");
        await Api.PutConnection("enate", _enate.BaseUrl, new { type = "bearer", token = "enate-token" }, kind: "enate");
        await Api.PutRecipe("email-to-portal", new
        {
            name = "New email to the client portal",
            trigger = new { type = "enateWebhook", webhook = "NewCommunication", filter = "Data.CommunicationType == 'Email'" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input.Data.Subject" } },
        });
        await Api.PutRecipe("any-communication", new
        {
            name = "Every communication",
            trigger = new { type = "enateWebhook", webhook = "NewCommunication" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input.Data.Subject" } },
        });

        var created = await Api.Scenario(s =>
        {
            s.Post.Json(new { connection = "enate", webhook = "NewCommunication" }).ToUrl("/api/v1/enate/subscriptions");
            s.StatusCodeShouldBe(HttpStatusCode.Created);
        });
        _path = new Uri(created.ReadAsJson<JsonElement>().GetProperty("url").GetString()!).AbsolutePath;
        var registered = JsonDocument.Parse(Assert.Single(_enate.Requests).Body).RootElement;
        Assert.Equal("NewCommunication", registered.GetProperty("Webhook").GetString());
        Assert.EndsWith(_path, registered.GetProperty("SubscriberURL").GetString());
        _secret = registered.GetProperty("CustomHeaderValue").GetString()!;
        Assert.Equal("X-Enate-Platform-Secret", registered.GetProperty("CustomHeader").GetString());
    }

    public override async Task DisposeAsync() => await _enate.DisposeAsync();

    private static string Delivery(string subject, string type = "Email") =>
        JsonSerializer.Serialize(new
        {
            Webhook = "NewCommunication",
            Data = new { PacketGUID = "0f8fad5b-d9cb-469f-a165-70867728950e", Reference = "202234-C", Subject = subject, CommunicationType = type },
        });

    [Fact]
    public async Task matching_recipes_run_once_however_often_enate_repeats_the_delivery()
    {
        var first = await Deliver(Delivery("Invoice query"), _secret, HttpStatusCode.Accepted);
        Assert.Equal(2, first.Length);
        var repeat = await Deliver(Delivery("Invoice query"), _secret, HttpStatusCode.OK);
        Assert.Equal(first, repeat);
        foreach (var runId in first) await Api.WaitForRun(runId, RunStatus.Succeeded);

        var changed = await Deliver(Delivery("Second email"), _secret, HttpStatusCode.Accepted);
        Assert.Empty(changed.Intersect(first));

        var note = await Deliver(Delivery("A phone note", "Note"), _secret, HttpStatusCode.Accepted);
        Assert.Single(note);
    }

    [Fact]
    public async Task a_missing_or_wrong_header_is_401_recorded_and_starts_nothing()
    {
        await Deliver(Delivery("x"), null, HttpStatusCode.Unauthorized);
        await Deliver(Delivery("x"), _secret + "x", HttpStatusCode.Unauthorized);
        var rejected = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected&trigger=enateWebhook");
        var items = rejected.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.DoesNotContain(_secret, JsonSerializer.Serialize(items));
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=any-communication");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }

    private async Task<Guid[]> Deliver(string body, string? secret, HttpStatusCode expected)
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(_path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            if (secret is not null) s.WithRequestHeader("X-Enate-Platform-Secret", secret);
            s.StatusCodeShouldBe(expected);
        });
        return (int)expected < 300
            ? result.ReadAsJson<JsonElement>().GetProperty("runIds").EnumerateArray().Select(e => e.GetGuid()).ToArray()
            : [];
    }
}
