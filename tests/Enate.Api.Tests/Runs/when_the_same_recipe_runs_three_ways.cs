using System.Text.Json;
using Enate.Api.Tests.Replay;
using Enate.Domain.Runs;
using Enate.Testing;
using Xunit.Abstractions;

namespace Enate.Api.Tests.Runs;

/// One table of cases through the Workers, what-if and dry run: the same recipe, input and answers give the same
/// outcome everywhere, because all three are the one engine. What-if answers each call as the run recorded it; a dry
/// run answers every call with success, so it agrees wherever the partner's answers end in success.
public sealed class when_the_same_recipe_runs_three_ways(AppFixture app, ITestOutputHelper output) : AppTest(app)
{
    private TestPartner _partner = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _partner = await TestPartner.StartAsync();
        await Api.PutConnection("crm", _partner.BaseUrl, new { type = "bearer", token = "tok_THREE_WAYS" });
    }

    public override async Task DisposeAsync() => await _partner.DisposeAsync();

    private sealed record Case(string Key, object[] Steps, int[] Answers, string Outcome);

    private static object Call(string id) => new { id, type = "http", connection = "crm", method = "POST", path = "/deals/{{ input.id }}", body = "{{ input | json }}" };

    private static readonly Case[] Cases =
    [
        new("transform-and-call", [new { id = "shape", type = "transform", template = """{"n": {{ input.id }}}""" }, Call("post")], [200], RunStatus.Succeeded),
        new("filter-says-no", [new { id = "big", type = "filter", condition = "input.id > `100`" }, Call("post")], [], RunStatus.Skipped),
        new("template-broken", [new { id = "shape", type = "transform", template = """{"n": }""" }, Call("post")], [], RunStatus.Failed),
        new("partner-refuses", [Call("post")], [422], RunStatus.Failed),
        new("partner-down", [Call("post")], [503, 503, 503], RunStatus.DeadLettered),
        new("partner-recovers", [Call("post")], [503, 200], RunStatus.Succeeded),
        new("second-call-refused", [Call("first"), Call("second")], [200, 400], RunStatus.Failed),
    ];

    [Fact]
    public async Task the_workers_what_if_and_dry_run_agree()
    {
        var table = new List<string>();
        foreach (var c in Cases)
        {
            await Api.PutRecipe(c.Key, new
            {
                name = c.Key, trigger = new { type = "api" }, steps = c.Steps, retry = new { schedule = new[] { "0", "0.1", "0.1" }, jitter = 0 },
            });
            foreach (var status in c.Answers) _partner.Then(status);
            var runId = await Api.RequestRun(c.Key, new { id = 7 });
            var workers = await Api.WaitForRun(runId, c.Outcome);

            var (_, whatIf, _) = await Api.Post($"/api/v1/recipes/{c.Key}/versions/1/what-if", new { filter = new { } });
            var compared = Assert.Single(whatIf.GetProperty("runs").EnumerateArray());
            var (_, dry, _) = await Api.Post($"/api/v1/recipes/{c.Key}/dry-run", new { input = new { id = 7 } });
            var partnerSucceeds = c.Answers.Length == 0 || c.Answers[^1] < 300;

            table.Add($"{c.Key}: workers {workers.Status}, what-if {compared.Str("outcome")}, dry run {dry.Str("outcome")}");
            Assert.Equal(c.Outcome, compared.Str("outcome"));
            Assert.False(compared.GetProperty("changed").GetBoolean(), $"{c.Key}: what-if of the same version reports a change");
            if (partnerSucceeds) Assert.Equal(c.Outcome, dry.Str("outcome"));
        }
        output.WriteLine(string.Join("\n", table));
    }
}
