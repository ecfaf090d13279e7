using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;

namespace Enate.Domain.Tests.Engine;

/// What the engine's tests share: connections, a clock that does not move, scripted answers, and runs built the way
/// the Workers build them.
public static class EngineWorld
{
    public static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    public static readonly Dictionary<string, Connection> Connections = new()
    {
        ["crm"] = new Connection
        {
            Id = "crm", Kind = "http", BaseUrl = "https://crm.example", Auth = new ConnectionAuth { Type = AuthTypes.Bearer, Token = "sealed" },
        },
        ["enate"] = new Connection { Id = "enate", Kind = "enate", BaseUrl = "https://enate.example" },
    };

    public static RunEngine NewEngine(Limits? limits = null) => new(limits ?? new Limits(), new FixedClock(), "test", () => 0.5);

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static Run NewRun(JsonElement input) =>
        Run.Create(new RunRequested(Guid.CreateVersion7(), "recipe", 1, "api", input, null, null, null, "test", Now));

    public static RunScope Scope(RecipeDefinition recipe, JsonElement input) =>
        new("tenant", recipe, input, (name, _) => ValueTask.FromResult(Connections.GetValueOrDefault(name)));

    public static RecipeDefinition Recipe(params StepDefinition[] steps) => new()
    {
        Name = "Test", Trigger = new TriggerDefinition { Type = "api" }, Steps = steps,
        Retry = new RetryPolicy { Schedule = ["0", "5", "60"], Jitter = 0 },
    };

    public static StepDefinition Transform(string id, string template) => new() { Id = id, Type = "transform", Template = template };

    public static StepDefinition Call(string id, string path = "/deals") =>
        new() { Id = id, Type = "http", Connection = "crm", Method = "POST", Path = path, Body = "{{ input | json }}" };

    public static Answer Ok(string body = """{"ok":true}""") => Answer(200, body);

    public static Answer Answer(int status, string body = "{}", TimeSpan? retryAfter = null) => new(
        new OutboundResponseReceived(Guid.Empty, "", 1, status, new Dictionary<string, string>(), Recording.Body(body, "application/json"), 1, Now),
        new CallOutcome(status, retryAfter, null),
        RunContext.ToElement(new JsonObject { ["status"] = status, ["headers"] = new JsonObject(), ["body"] = JsonNode.Parse(body) }));

    public static Answer Failure(string reason, bool permanent) => new(
        new OutboundCallFailed(Guid.Empty, "", 1, !permanent, null, reason, null, Now), new CallOutcome(null, null, reason, permanent), default);

    /// Events of a type, by name, in order.
    public static List<string> Types(IEnumerable<object> events) => events.Select(e => e.GetType().Name).ToList();

    /// Drives a run as the Workers do: one call per pass, each retry when it is due (at once here).
    public static async Task<List<object>> RunAsWorkers(RunEngine engine, Run run, RunScope scope, IAnswerer answerer)
    {
        var events = new List<object>();
        for (var passes = 0; passes < 100; passes++)
        {
            var pass = await engine.AdvanceAsync(run, scope, answerer, maxCalls: 1, CancellationToken.None);
            events.AddRange(pass.Events);
            if (pass.Next is not (Next.GoOn or Next.RetryAfter)) return events;
        }
        throw new InvalidOperationException("The run did not end within 100 passes.");
    }
}

/// Answers calls from a script, in order; records every call it was asked to answer.
public sealed class Script(params Func<CallRequest, Answer?>[] answers) : IAnswerer
{
    private readonly Queue<Func<CallRequest, Answer?>> _answers = new(answers);

    public List<CallRequest> Calls { get; } = [];

    public static Script Of(params Answer[] answers) => new(answers.Select(a => (Func<CallRequest, Answer?>)(_ => a)).ToArray());

    public Task<Answer?> AnswerAsync(CallRequest call, CancellationToken ct)
    {
        Calls.Add(call);
        return Task.FromResult(_answers.TryDequeue(out var next) ? next(call) : EngineWorld.Ok());
    }
}

public sealed class FixedClock : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => EngineWorld.Now;
}
