using System.Text.Json.Nodes;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using static Enate.Domain.Tests.Engine.EngineWorld;

namespace Enate.Domain.Tests.Engine;

/// The engine alone: no database, no network. Each step type, each kind of answer, and what comes next.
public sealed class when_the_engine_runs_a_recipe
{
    private static readonly System.Text.Json.JsonElement Input = Json("""{"id":7,"name":"Acme","amount":500}""");

    [Fact]
    public async Task a_filter_a_transform_and_a_call_record_their_steps_and_the_run_succeeds()
    {
        var recipe = Recipe(
            new StepDefinition { Id = "big", Type = "filter", Condition = "input.amount > `100`" },
            Transform("shape", """{"dealName": "{{ input.name }}"}"""),
            new StepDefinition { Id = "post", Type = "http", Connection = "crm", Method = "POST", Path = "/deals/{{ input.id }}", Body = "{{ steps.shape | json }}" });
        var run = NewRun(Input);
        var script = Script.Of(Ok("""{"dealId":"d-1"}"""));

        var pass = await NewEngine().AdvanceAsync(run, Scope(recipe, Input), script, maxCalls: 1, CancellationToken.None);

        Assert.Equal(
            ["RunStarted", "StepCompleted", "StepCompleted", "OutboundRequestSent", "OutboundResponseReceived", "StepCompleted", "RunSucceeded"],
            Types(pass.Events));
        Assert.Equal(["filter", "transform", "http"], pass.Events.OfType<StepCompleted>().Select(e => e.StepType));
        var call = Assert.Single(script.Calls);
        Assert.Equal("https://crm.example/deals/7", call.Sent.Url);
        Assert.Equal("***", call.Sent.Headers["Authorization"]);
        Assert.Equal($"{run.Id}:post", call.Sent.IdempotencyKey);
        Assert.Equal("""{"dealName":"Acme"}""", call.Plan.Body);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("d-1", run.LastOutput!.Value.GetProperty("body").GetProperty("dealId").GetString());
        Assert.Equal(Next.None, pass.Next);
    }

    [Fact]
    public async Task an_enate_operation_calls_its_connection_with_the_arguments_as_body()
    {
        var recipe = Recipe(new StepDefinition
        {
            Id = "note", Type = "enate", Connection = "enate", Operation = "addNote",
            Args = new JsonObject { ["guid"] = "{{ input.id }}", ["note"] = "Deal {{ input.name }}" },
        });
        var script = Script.Of(Ok());

        await NewEngine().AdvanceAsync(NewRun(Input), Scope(recipe, Input), script, 1, CancellationToken.None);

        var call = Assert.Single(script.Calls);
        Assert.Equal("https://enate.example/api/v1/Packet/7/Note", call.Sent.Url);
        Assert.Equal("""{"note":"Deal Acme"}""", call.Plan.Body);
    }

    [Fact]
    public async Task a_false_filter_skips_the_rest()
    {
        var recipe = Recipe(new StepDefinition { Id = "small", Type = "filter", Condition = "input.amount < `100`" }, Call("post"));
        var run = NewRun(Input);
        var script = Script.Of();

        var pass = await NewEngine().AdvanceAsync(run, Scope(recipe, Input), script, 1, CancellationToken.None);

        Assert.Equal(["RunStarted", "RunSkipped"], Types(pass.Events));
        Assert.Equal(RunStatus.Skipped, run.Status);
        Assert.Empty(script.Calls);
    }

    [Fact]
    public async Task the_workers_make_one_call_a_pass_and_the_next_pass_makes_the_next()
    {
        var recipe = Recipe(Call("first"), Transform("between", """{"x": 1}"""), Call("second"));
        var run = NewRun(Input);
        var script = Script.Of(Ok(), Ok());
        var engine = NewEngine();

        var first = await engine.AdvanceAsync(run, Scope(recipe, Input), script, 1, CancellationToken.None);
        Assert.Equal(Next.Continue, first.Next);
        Assert.Single(script.Calls);
        Assert.True(run.CompletedSteps.ContainsKey("between"));

        var second = await engine.AdvanceAsync(run, Scope(recipe, Input), script, 1, CancellationToken.None);
        Assert.Equal(2, script.Calls.Count);
        Assert.IsType<RunSucceeded>(second.Ending);
        Assert.DoesNotContain(second.Events, e => e is RunStarted);
    }

    [Fact]
    public async Task a_server_error_schedules_the_next_attempt_on_the_recipes_schedule_and_retry_after_is_a_floor()
    {
        var recipe = Recipe(Call("post"));
        var run = NewRun(Input);
        var engine = NewEngine();

        var first = await engine.AdvanceAsync(run, Scope(recipe, Input), Script.Of(Answer(503)), 1, CancellationToken.None);
        var retry = Assert.IsType<Next.RetryAfter>(first.Next);
        Assert.Equal((2, TimeSpan.FromSeconds(5)), (retry.Attempt, retry.Delay));
        Assert.Equal(RunStatus.Waiting, run.Status);
        Assert.Equal(2, run.PendingAttempt);

        var second = await engine.AdvanceAsync(run, Scope(recipe, Input), Script.Of(Answer(429, retryAfter: TimeSpan.FromMinutes(3))), 1,
            CancellationToken.None);
        Assert.Equal(TimeSpan.FromMinutes(3), Assert.IsType<Next.RetryAfter>(second.Next).Delay);
        Assert.Equal(2, second.Events.OfType<OutboundRequestSent>().Single().Attempt);
        Assert.Equal(3, run.PendingAttempt);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(422)]
    public async Task a_client_error_fails_the_run_at_once(int status)
    {
        var run = NewRun(Input);

        var pass = await NewEngine().AdvanceAsync(run, Scope(Recipe(Call("post")), Input), Script.Of(Answer(status)), 1, CancellationToken.None);

        var failed = Assert.IsType<RunFailed>(pass.Ending);
        Assert.Contains($"answered {status}", failed.Reason);
        Assert.StartsWith("Step 'post'", failed.Reason);
    }

    [Fact]
    public async Task a_token_endpoint_that_refuses_the_credentials_fails_the_run_at_once()
    {
        var run = NewRun(Input);

        var pass = await NewEngine().AdvanceAsync(run, Scope(Recipe(Call("post")), Input),
            Script.Of(Failure("The token endpoint answered 401.", permanent: true)), 1, CancellationToken.None);

        Assert.Contains("token endpoint answered 401", Assert.IsType<RunFailed>(pass.Ending).Reason);
    }

    [Fact]
    public async Task a_schedule_used_up_dead_letters_the_run()
    {
        var run = NewRun(Input);
        var script = Script.Of(Answer(503), Failure("No answer within 5 s.", permanent: false), Answer(502));

        var events = await RunAsWorkers(NewEngine(), run, Scope(Recipe(Call("post")), Input), script);

        var dead = Assert.IsType<RunDeadLettered>(events.Last());
        Assert.Equal(3, dead.Attempts);
        Assert.Contains("answered 502", dead.Reason);
        Assert.Equal(2, events.OfType<RetryScheduled>().Count());
        Assert.Equal(RunStatus.DeadLettered, run.Status);
    }

    [Fact]
    public async Task an_answerer_that_throws_fails_the_run_naming_the_step()
    {
        var run = NewRun(Input);
        var script = new Script(_ => throw new System.Text.Json.JsonException("the token answer is not JSON"));

        var pass = await NewEngine().AdvanceAsync(run, Scope(Recipe(Call("post")), Input), script, 1, CancellationToken.None);

        var failed = Assert.IsType<RunFailed>(pass.Ending);
        Assert.Equal("Step 'post': the call could not be made: the token answer is not JSON", failed.Reason);
        Assert.Equal(RunStatus.Failed, run.Status);
    }

    [Fact]
    public async Task a_template_error_fails_the_run_naming_the_step_and_where()
    {
        var pass = await NewEngine().AdvanceAsync(NewRun(Input), Scope(Recipe(Transform("shape", """{"x": {{ input.name }}}""")), Input),
            Script.Of(), 1, CancellationToken.None);

        var failed = Assert.IsType<RunFailed>(pass.Ending);
        Assert.StartsWith("Step 'shape': json output", failed.Reason);
    }

    [Theory]
    [InlineData("https://elsewhere.example/collect")]
    [InlineData("{{ input.url | raw }}")]
    public async Task a_call_to_another_origin_fails_without_asking_the_answerer(string path)
    {
        var input = Json("""{"url":"https://elsewhere.example/collect"}""");
        var script = Script.Of();

        var pass = await NewEngine().AdvanceAsync(NewRun(input), Scope(Recipe(Call("post", path)), input), script, 1, CancellationToken.None);

        Assert.Contains("nothing was sent", Assert.IsType<RunFailed>(pass.Ending).Reason);
        Assert.Empty(script.Calls);
        Assert.DoesNotContain(pass.Events, e => e is OutboundRequestSent);
    }

    [Theory]
    [InlineData("Host", "evil.example")]
    [InlineData("Authorization", "Bearer mine")]
    [InlineData("X-Note", "{{ input.text }}")]
    public async Task a_header_the_step_may_not_send_fails_without_asking(string name, string value)
    {
        var input = Json("""{"text":"line\r\nInjected: yes"}""");
        var step = Call("post") with { Headers = new Dictionary<string, string> { [name] = value } };
        var script = Script.Of();

        var pass = await NewEngine().AdvanceAsync(NewRun(input), Scope(Recipe(step), input), script, 1, CancellationToken.None);

        Assert.Contains("header", Assert.IsType<RunFailed>(pass.Ending).Reason);
        Assert.Empty(script.Calls);
    }

    [Fact]
    public async Task a_finished_run_records_nothing_more()
    {
        var run = NewRun(Input);
        var engine = NewEngine();
        await engine.AdvanceAsync(run, Scope(Recipe(Transform("x", "{}")), Input), Script.Of(), 1, CancellationToken.None);

        var again = await engine.AdvanceAsync(run, Scope(Recipe(Transform("x", "{}")), Input), Script.Of(), 1, CancellationToken.None);

        Assert.Empty(again.Events);
    }

    [Fact]
    public async Task an_xlsx_transform_over_text_that_is_not_base64_fails_its_step()
    {
        var recipe = Recipe(new StepDefinition { Id = "sheet", Type = "transform", Select = "input.file", From = "xlsx" });
        var input = Json("""{"file":"this is not base64!"}""");

        var pass = await NewEngine().SimulateAsync(NewRun(input), Scope(recipe, input), WouldSend.Instance, CancellationToken.None);

        Assert.Contains("not base64", Assert.IsType<RunFailed>(pass.Ending).Reason);
    }

    [Fact]
    public async Task a_simulation_takes_every_call_and_retry_at_once()
    {
        var recipe = Recipe(Call("first"), Call("second"));
        var run = NewRun(Input);
        var script = Script.Of(Answer(503), Ok(), Ok());

        var pass = await NewEngine().SimulateAsync(run, Scope(recipe, Input), script, CancellationToken.None);

        Assert.IsType<RunSucceeded>(pass.Ending);
        Assert.Equal(3, script.Calls.Count);
        Assert.Equal(Next.None, pass.Next);
    }
}
