using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Testing;

namespace Enate.Api.Tests.Replay;

public sealed class when_a_version_is_tried_on_past_runs(AppFixture app) : AppTest(app)
{
    private TestPartner _partner = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        await Api.PutConnection("crm", _partner.BaseUrl, new { type = "bearer", token = "tok_WHATIF_SECRET" });
    }

    public override async Task DisposeAsync() => await _partner.DisposeAsync();

    private Task PutDeals(string dealName, params object[] extraSteps) => Api.PutRecipe("deals", new
    {
        name = "Deals",
        trigger = new { type = "api" },
        steps = new object[]
        {
            new { id = "shape", type = "transform", template = "{\"dealName\": " + dealName + ", \"amount\": {{ input.amount }}}" },
            new { id = "post", type = "http", connection = "crm", method = "POST", path = "/deals/{{ input.id }}", body = "{{ steps.shape | json }}" },
        }.Concat(extraSteps).ToArray(),
    });

    private async Task<List<Guid>> RunV1(int count)
    {
        await PutDeals("\"{{ input.name }}\"");
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++) ids.Add(await Api.RequestRun("deals", new { id = i, name = $"Acme {i}", amount = 100 + i }));
        foreach (var id in ids) await Api.WaitForRun(id, RunStatus.Succeeded);
        return ids;
    }

    private async Task<JsonElement> WhatIf(int version, object? filter = null, int expected = 200)
    {
        var (status, body, _) = await Api.Post($"/api/v1/recipes/deals/versions/{version}/what-if", new { filter = filter ?? new { } });
        Assert.True(expected == status, $"Expected {expected}, got {status}: {body}");
        return body;
    }

    [Fact]
    public async Task a_changed_template_field_is_reported_exactly_and_nothing_is_sent_or_recorded()
    {
        var runs = await RunV1(3);
        await PutDeals("\"{{ input.name | upcase }}\"");
        var eventsBefore = new Dictionary<Guid, int>();
        foreach (var id in runs) eventsBefore[id] = (await Api.Events(id)).Count;

        var result = await WhatIf(2);

        Assert.Equal(3, result.GetProperty("summary").Int("compared"));
        Assert.Equal(3, result.GetProperty("summary").Int("changed"));
        Assert.Equal(3, result.GetProperty("summary").GetProperty("changedPaths").GetProperty("post:/dealName").GetInt32());
        Assert.Single(result.GetProperty("summary").GetProperty("changedPaths").EnumerateObject());
        foreach (var run in result.GetProperty("runs").EnumerateArray())
        {
            var n = runs.IndexOf(run.GetProperty("runId").GetGuid());
            Assert.Equal(1, run.Int("recordedVersion"));
            Assert.Equal("succeeded", run.Str("outcome"));
            var call = Assert.Single(run.GetProperty("outbound").EnumerateArray());
            Assert.Equal("post", call.Str("stepId"));
            Assert.Equal("changed", call.Str("status"));
            Assert.Equal(["body"], call.GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
            var change = Assert.Single(call.GetProperty("diff").EnumerateArray());
            Assert.Equal("/dealName", change.Str("path"));
            Assert.Equal("changed", change.Str("op"));
            Assert.Equal($"Acme {n}", change.Str("before"));
            Assert.Equal($"ACME {n}", change.Str("after"));
            Assert.Equal(call.GetProperty("recorded").Str("url"), call.GetProperty("wouldSend").Str("url"));
            Assert.Equal(100 + n, call.GetProperty("wouldSend").GetProperty("body").Int("amount"));
        }

        // No side effects: the partner heard nothing new, no run was started, nothing was appended.
        Assert.Equal(3, _partner.Requests.Count);
        Assert.Equal(3, (await Api.GetAsJson<JsonElement>("/api/v1/runs")).GetProperty("items").GetArrayLength());
        foreach (var id in runs) Assert.Equal(eventsBefore[id], (await Api.Events(id)).Count);
        Assert.DoesNotContain("tok_WHATIF_SECRET", result.GetRawText());
    }

    [Fact]
    public async Task the_recorded_version_over_its_own_runs_changes_nothing()
    {
        await RunV1(2);
        var result = await WhatIf(1);
        Assert.Equal(2, result.GetProperty("summary").Int("compared"));
        Assert.Equal(0, result.GetProperty("summary").Int("changed"));
        Assert.All(result.GetProperty("runs").EnumerateArray(), run =>
        {
            Assert.Equal("same", Assert.Single(run.GetProperty("outbound").EnumerateArray()).Str("status"));
            Assert.Empty(run.GetProperty("outputDiff").EnumerateArray());
        });
    }

    [Fact]
    public async Task a_call_never_recorded_is_reported_as_new_and_stops_the_comparison()
    {
        await RunV1(1);
        await PutDeals("\"{{ input.name }}\"",
            new { id = "notify", type = "http", connection = "crm", method = "POST", path = "/notify", body = "{\"seen\": {{ steps.post.body.ok }}}" });

        var run = (await WhatIf(2)).GetProperty("runs")[0];
        Assert.Equal("unrecorded", run.Str("outcome"));
        Assert.Contains("notify", run.Str("error"));
        var calls = run.GetProperty("outbound").EnumerateArray().ToList();
        Assert.Equal(["same", "new"], calls.Select(c => c.Str("status")));
        // The new call is built from the partner's recorded answer to the step before it.
        Assert.True(calls[1].GetProperty("wouldSend").GetProperty("body").GetProperty("seen").GetBoolean());
        Assert.Single(_partner.Requests);
    }

    [Fact]
    public async Task the_filter_limits_the_runs_and_bad_values_are_refused()
    {
        await RunV1(3);
        Assert.Equal(2, (await WhatIf(1, new { limit = 2 })).GetProperty("summary").Int("compared"));
        Assert.Equal(0, (await WhatIf(1, new { to = DateTimeOffset.UtcNow.AddDays(-1) })).GetProperty("summary").Int("compared"));
        await WhatIf(1, new { limit = 0 }, 422);
        await WhatIf(1, new { limit = 201 }, 422);
        await WhatIf(1, new { from = DateTimeOffset.UtcNow, to = DateTimeOffset.UtcNow.AddDays(-1) }, 422);
        await WhatIf(9, expected: 404);
    }

    [Fact]
    public async Task asked_to_respond_async_the_comparison_runs_in_the_workers_and_agrees_with_the_one_answered_at_once()
    {
        await RunV1(3);
        await PutDeals("\"{{ input.name | upcase }}\"");
        var atOnce = await WhatIf(2);

        var accepted = await Api.Scenario(s =>
        {
            s.Post.Json(new { filter = new { } }).ToUrl("/api/v1/recipes/deals/versions/2/what-if");
            s.WithRequestHeader("Prefer", "respond-async");
            s.StatusCodeShouldBe(202);
        });
        var location = accepted.Context.Response.Headers.Location.ToString();
        Assert.Equal($"/api/v1/what-ifs/{accepted.ReadAsJson<JsonElement>().GetProperty("whatIfId").GetGuid()}", location);

        var job = await Eventually.Get(async () => await Api.GetAsJson<JsonElement>(location), j => j.Str("status") == "completed");
        Assert.Equal(3, job.Int("total"));
        Assert.Equal(3, job.Int("compared"));
        Assert.Equal(atOnce.GetProperty("summary").GetRawText(), job.GetProperty("summary").GetRawText());
    }
}
