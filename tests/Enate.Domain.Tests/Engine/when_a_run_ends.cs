using System.Text.Json;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Transforms;
using static Enate.Domain.Tests.Engine.EngineWorld;

namespace Enate.Domain.Tests.Engine;

/// Every run reaches exactly one ending, whatever fails at whichever step; a finished run's outcome never changes,
/// not even when its Enate callback needs retries; every limit fails the step with a reason that names it.
public sealed class when_a_run_ends
{
    private static readonly JsonElement Action = Json("""{"Action":[{"Reference":"202234-C"}],"CallBackURL":"https://enate.example/callback/1","rows":"a,b\n1,2\n"}""");

    private static RecipeDefinition WithCallback(params StepDefinition[] steps) => Recipe(steps) with
    {
        Trigger = new TriggerDefinition { Type = "enateAction" },
        Callback = new CallbackDefinition { Mode = CallbackModes.CallEnate, Connection = "enate", CustomData = """{"ref": "{{ output.body.ref }}"}""" },
    };

    [Fact]
    public async Task an_ended_run_asks_for_its_callback_and_the_callback_tells_enate_the_outcome()
    {
        var recipe = WithCallback(Call("post"));
        var run = NewRun(Action);
        var engine = NewEngine();

        var pass = await engine.AdvanceAsync(run, Scope(recipe, Action), Script.Of(Ok("""{"ref":"r-1"}""")), 1, CancellationToken.None);
        Assert.IsType<Next.CallBack>(pass.Next);

        var script = Script.Of(Ok());
        var callback = await engine.CallBackAsync(run, Scope(recipe, Action), script, 1, CancellationToken.None);

        var call = Assert.Single(script.Calls);
        Assert.Equal("https://enate.example/callback/1", call.Sent.Url);
        Assert.Equal("""{"outcome":"success","customData":{"ref":"r-1"}}""", call.Plan.Body);
        Assert.Equal("success", callback.Events.OfType<EnateCallbackSent>().Single().Outcome);
        Assert.True(run.CallbackDone);
    }

    [Fact]
    public async Task a_failed_run_calls_back_failure_with_its_reason()
    {
        var recipe = WithCallback(Call("post"));
        var run = NewRun(Action);
        var engine = NewEngine();
        await engine.AdvanceAsync(run, Scope(recipe, Action), Script.Of(Answer(404)), 1, CancellationToken.None);

        var script = Script.Of(Ok());
        await engine.CallBackAsync(run, Scope(recipe, Action), script, 1, CancellationToken.None);

        var body = JsonDocument.Parse(Assert.Single(script.Calls).Plan.Body!).RootElement;
        Assert.Equal("failure", body.GetProperty("outcome").GetString());
        Assert.Contains("answered 404", body.GetProperty("rejectedReason").GetString());
    }

    [Fact]
    public async Task a_callback_retry_is_recorded_without_changing_the_runs_outcome()
    {
        var recipe = WithCallback(Transform("shape", """{"ref": "r-2"}"""));
        var run = NewRun(Action);
        var engine = NewEngine();
        await engine.AdvanceAsync(run, Scope(recipe, Action), Script.Of(), 1, CancellationToken.None);

        var first = await engine.CallBackAsync(run, Scope(recipe, Action), Script.Of(Answer(503)), 1, CancellationToken.None);
        var retry = Assert.IsType<Next.RetryAfter>(first.Next);
        Assert.True(retry.Callback);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(2, run.PendingCallbackAttempt);

        var second = await engine.CallBackAsync(run, Scope(recipe, Action), Script.Of(Ok()), retry.Attempt, CancellationToken.None);
        Assert.Single(second.Events.OfType<EnateCallbackSent>());
        Assert.Equal(RunStatus.Succeeded, run.Status);

        // The summary a list shows agrees: still succeeded, and the callback sent.
        var summary = RunSummaryProjection.Create(new RunRequested(run.Id, "recipe", 1, "enateAction", Action, null, null, null, "test", Now));
        foreach (var e in new List<object> { new RunSucceeded(run.Id, Json("{}"), Now) }.Concat(first.Events).Concat(second.Events))
            Apply(summary, e);
        Assert.Equal(RunStatus.Succeeded, summary.Status);
        Assert.Equal("sent (success)", summary.Callback);
    }

    [Fact]
    public async Task a_callback_url_on_another_origin_is_never_called()
    {
        var input = Json("""{"Action":[{}],"CallBackURL":"https://collector.example/steal"}""");
        var recipe = WithCallback(Transform("shape", "{}"));
        var run = NewRun(input);
        var engine = NewEngine();
        await engine.AdvanceAsync(run, Scope(recipe, input), Script.Of(), 1, CancellationToken.None);
        var script = Script.Of();

        var pass = await engine.CallBackAsync(run, Scope(recipe, input), script, 1, CancellationToken.None);

        Assert.Contains("nothing was sent", pass.Events.OfType<EnateCallbackFailed>().Single().Reason);
        Assert.Empty(script.Calls);
    }

    public static TheoryData<string, StepDefinition, string, Limits> Limited => new()
    {
        { "template output", Transform("t", """{"x": "{% for i in (1..100) %}{{ i }}{% endfor %}"}"""), "MaxTemplateOutputBytes",
            new Limits { Transforms = TransformLimits.Default with { MaxTemplateOutputBytes = 50 } } },
        { "template steps", Transform("t", """{"x": "{% for i in (1..1000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}"}"""), "MaxTemplateSteps",
            new Limits { Transforms = TransformLimits.Default with { MaxTemplateSteps = 10_000 } } },
        { "csv rows", new StepDefinition { Id = "t", Type = "transform", Select = "input.rows", From = "csv" }, "MaxRows",
            new Limits { Transforms = TransformLimits.Default with { MaxRows = 0 } } },
        { "csv columns", new StepDefinition { Id = "t", Type = "transform", Select = "input.rows", From = "csv" }, "MaxColumns",
            new Limits { Transforms = TransformLimits.Default with { MaxColumns = 1 } } },
        { "csv cells", new StepDefinition { Id = "t", Type = "transform", Select = "input.rows", From = "csv" }, "MaxCells",
            new Limits { Transforms = TransformLimits.Default with { MaxCells = 1 } } },
        { "csv cell", new StepDefinition { Id = "t", Type = "transform", Select = "input.rows", From = "csv" }, "MaxCellBytes",
            new Limits { Transforms = TransformLimits.Default with { MaxCellBytes = 0 } } },
        { "selection", new StepDefinition { Id = "t", Type = "transform", Select = "input.Action" }, "MaxSelectionBytes",
            new Limits { Transforms = TransformLimits.Default with { MaxSelectionBytes = 5 } } },
        { "step output", Transform("t", """{"x": "0123456789"}"""), "MaxStepOutputBytes", new Limits { MaxStepOutputBytes = 5 } },
        { "step time", Transform("t", """{"x": "{% for i in (1..100000) %}{{ i }}{% endfor %}"}"""), "MaxStepTime",
            new Limits { Transforms = TransformLimits.Default with { MaxStepTime = TimeSpan.Zero } } },
    };

    [Theory]
    [MemberData(nameof(Limited))]
    public async Task a_step_over_a_limit_fails_naming_the_limit(string what, StepDefinition step, string setting, Limits limits)
    {
        var run = NewRun(Action);

        var pass = await NewEngine(limits).AdvanceAsync(run, Scope(Recipe(step), Action), Script.Of(), 1, CancellationToken.None);

        var failed = Assert.IsType<RunFailed>(pass.Ending);
        Assert.True(failed.Reason.Contains(setting), $"{what}: {failed.Reason}");
    }

    [Fact]
    public async Task an_xlsx_that_inflates_beyond_the_limit_is_refused_before_it_is_read()
    {
        var rows = new System.Text.Json.Nodes.JsonArray(Enumerable.Range(0, 2000).Select(i => (System.Text.Json.Nodes.JsonNode)
            new System.Text.Json.Nodes.JsonObject { ["text"] = new string('x', 500) }).ToArray());
        var input = Json(JsonSerializer.Serialize(new { file = Convert.ToBase64String(Formats.WriteXlsx(rows)) }));
        var step = new StepDefinition { Id = "sheet", Type = "transform", Select = "input.file", From = "xlsx" };

        var pass = await NewEngine(new Limits { Transforms = TransformLimits.Default with { MaxXlsxBytes = 100_000 } })
            .AdvanceAsync(NewRun(input), Scope(Recipe(step), input), Script.Of(), 1, CancellationToken.None);

        Assert.Contains("MaxXlsxBytes", Assert.IsType<RunFailed>(pass.Ending).Reason);
    }

    /// Failures a step can meet, as the answerer or the step itself produces them.
    public static TheoryData<string, int> Failures()
    {
        var data = new TheoryData<string, int>();
        foreach (var failure in new[] { "exception", "timeout", "token refused", "token answer unusable", "too large", "client error", "template", "server errors" })
            for (var step = 0; step < 4; step++) data.Add(failure, step);
        return data;
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task any_failure_at_any_step_ends_the_run_exactly_once(string failure, int at)
    {
        // Two calls and two transforms; the failure hits step `at`, every other call answers 200.
        var steps = new[] { Call("c0"), Transform("t1", """{"n": 1}"""), Call("c2"), Transform("t3", """{"n": 3}""") };
        if (failure == "template") steps[at] = Transform(steps[at].Id, """{"broken": {{ input.nothing }}}""");
        if (failure == "too large") steps[at] = steps[at].Type == "transform" ? Transform(steps[at].Id, """{"big": "{% for i in (1..40) %}0123456789{% endfor %}"}""") : steps[at];
        var recipe = Recipe(steps);
        var input = Json("""{"id":1}""");
        var run = NewRun(input);
        var script = new Script(Enumerable.Range(0, 20).Select(n => (Func<CallRequest, Answer?>)(call =>
            call.Sent.StepId != steps[at].Id ? Ok() : failure switch
            {
                "exception" => throw new InvalidOperationException("the answerer broke"),
                "timeout" => Failure("No answer within 5 s.", permanent: false),
                "token refused" => Failure("The token endpoint answered 401.", permanent: true),
                "token answer unusable" => Failure("The token endpoint's answer holds no access_token.", permanent: true),
                "too large" => Ok("{\"big\":\"" + new string('x', 400) + "\"}"),
                "client error" => Answer(422),
                "server errors" => Answer(503),
                _ => Ok(),
            })).ToArray());

        var events = await RunAsWorkers(NewEngine(new Limits { MaxStepOutputBytes = 200 }), run, Scope(recipe, input), script);

        var endings = events.Where(RunEngine.IsEnding).ToList();
        var ending = Assert.Single(endings);
        Assert.Same(ending, events.Last());
        var hitsStep = failure != "template" && failure != "too large" ? steps[at].Type == "http" : true;
        if (hitsStep) Assert.NotEqual(typeof(RunSucceeded), ending.GetType());
        if (ending is RunFailed failed) Assert.Contains($"'{steps[at].Id}'", failed.Reason);
        Assert.True(run.IsFinished);

        // The read model names the step the run ended at, whichever of its events came first.
        var summary = RunSummaryProjection.Create(new RunRequested(run.Id, "recipe", 1, "api", input, null, null, null, "test", Now));
        foreach (var e in events) Apply(summary, e);
        Assert.Equal(run.Status, summary.Status);
        Assert.Equal(ending is RunSucceeded ? "t3" : steps[at].Id, summary.CurrentStep);
        Assert.Equal(Math.Max(1, run.StepAttempts.Values.DefaultIfEmpty().Max()), summary.Attempts);
    }

    private static void Apply(RunSummary summary, object e)
    {
        switch (e)
        {
            case RunStarted x: RunSummaryProjection.Apply(x, summary); break;
            case OutboundRequestSent x: RunSummaryProjection.Apply(x, summary); break;
            case StepCompleted x: RunSummaryProjection.Apply(x, summary); break;
            case RunFailed x: RunSummaryProjection.Apply(x, summary); break;
            case RunSkipped x: RunSummaryProjection.Apply(x, summary); break;
            case RunDeadLettered x: RunSummaryProjection.Apply(x, summary); break;
            case RunSucceeded x: RunSummaryProjection.Apply(x, summary); break;
            case RetryScheduled x: RunSummaryProjection.Apply(x, summary); break;
            case EnateCallbackSent x: RunSummaryProjection.Apply(x, summary); break;
        }
    }
}
