using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Outbound;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;
using Enate.Domain.Steps;
using Enate.Domain.Transforms;
using Marten;
using Wolverine;

namespace Enate.Workers.Runs;

/// Pattern 1 with callback: tells the waiting Enate action how the run ended, through the action's own
/// CallBackURL, with the recipe's Enate connection credentials. Retried like any outbound call; the
/// Idempotency-Key is the run's, so Enate never sees two outcomes.
public static class EnateCallbackHandler
{
    public const string StepId = "enate-callback";

    public static async Task Handle(SendEnateCallback command, IDocumentSession session, IMessageContext bus,
        OutboundCaller caller, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Run>(command.RunId, ct);
        var run = stream.Aggregate;
        if (run is null || run.CallbackDone) return;
        var reads = await RunReads.LoadAsync(session, run, ct);
        var callback = reads.Recipe.Callback!;
        var outcome = command.Success ? "success" : "failure";
        var now = clock.GetUtcNow();

        var input = reads.Input;
        var url = input.ValueKind == JsonValueKind.Object && input.TryGetProperty("CallBackURL", out var u) ? u.GetString() : null;
        var connection = await reads.ConnectionAsync(session, callback.Connection ?? "", ct);
        if (string.IsNullOrWhiteSpace(url) || connection is null)
        {
            stream.AppendOne(new EnateCallbackFailed(run.Id, outcome,
                url is null ? "The trigger input has no CallBackURL." : $"Connection '{callback.Connection}' does not exist.", now));
            return;
        }

        JsonObject body;
        try
        {
            body = Body(command, callback, run, input);
        }
        catch (TransformException ex)
        {
            // The custom data template failed: Enate still hears that the integration did not succeed.
            body = new JsonObject { ["outcome"] = "failure", ["rejectedReason"] = $"Callback custom data: {ex.Message}" };
            outcome = "failure";
        }

        var plan = new CallPlan(connection.Id, "POST", url, new Dictionary<string, string>(), body.ToJsonString(), "application/json");
        var sent = OutboundRequests.Describe(run.Id, StepId, command.Attempt, plan, connection, now);
        var result = await caller.SendAsync(sent, plan, connection, ct);
        now = clock.GetUtcNow();
        var events = new List<object> { sent, result.Recorded };
        if (result.Outcome.Succeeded)
        {
            events.Add(new EnateCallbackSent(run.Id, outcome, result.Outcome.Status!.Value, now));
        }
        else if (result.Outcome.Transient &&
                 RetrySchedule.For(reads.Recipe.Retry).DelayBefore(command.Attempt + 1, result.Outcome.RetryAfter, Random.Shared.NextDouble()) is { } wait)
        {
            events.Add(new RetryScheduled(run.Id, StepId, command.Attempt + 1, now + wait, result.Outcome.Error ?? $"answered {result.Outcome.Status}", now));
            await bus.PublishAsync(command with { Attempt = command.Attempt + 1 },
                new DeliveryOptions { TenantId = session.TenantId, ScheduleDelay = wait });
        }
        else
        {
            events.Add(new EnateCallbackFailed(run.Id, outcome,
                result.Outcome.Error ?? $"Enate answered {result.Outcome.Status} after {command.Attempt} attempt(s).", now));
        }
        stream.AppendMany(events);
    }

    private static JsonObject Body(SendEnateCallback command, CallbackDefinition callback, Run run, JsonElement input)
    {
        if (!command.Success)
            return new JsonObject { ["outcome"] = "failure", ["rejectedReason"] = command.Reason ?? "The integration failed." };

        var body = new JsonObject { ["outcome"] = "success" };
        if (callback.CustomData is { } template)
        {
            var context = RunContext.Build(run.Id, "", run.RecipeKey, run.RecipeVersion, input, run.CompletedSteps);
            context["output"] = run.LastOutput is { } output ? JsonNode.Parse(output.GetRawText()) : null;
            body["customData"] = Templates.RenderJson(template, context);
        }
        return body;
    }
}
