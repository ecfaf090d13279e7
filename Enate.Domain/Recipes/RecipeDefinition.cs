using System.ComponentModel;
using System.Text.Json.Nodes;

namespace Enate.Domain.Recipes;

/// A recipe as its author writes it (JSON). Saved versions are immutable; a run pins one.
public sealed record RecipeDefinition
{
    [Description("A human name for the recipe.")]
    public required string Name { get; init; }

    [Description("What starts a run.")]
    public required TriggerDefinition Trigger { get; init; }

    [Description("Executed in order; each output is addressable by later steps as steps.<id>.")]
    public required IReadOnlyList<StepDefinition> Steps { get; init; }

    [Description("For Enate actions (pattern 1): whether to call Enate back with the outcome.")]
    public CallbackDefinition? Callback { get; init; }

    [Description("How transient failures of outbound calls are retried. Default: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h with ±20% jitter.")]
    public RetryPolicy? Retry { get; init; }

    [Description("JMESPath over the trigger input; when it yields a value, duplicate triggers with that value start one run.")]
    public string? IdempotencyKey { get; init; }

    [Description("JMESPath over the trigger input that yields the Enate work item reference (e.g. Action[0].Reference).")]
    public string? WorkItem { get; init; }
}

/// What can start a run.
public static class TriggerTypes
{
    public const string Api = "api";
    public const string EnateAction = "enateAction";
    public const string EnateWebhook = "enateWebhook";
    public const string Webhook = "webhook";
    public const string Schedule = "schedule";
    public static readonly string[] All = [Api, EnateAction, EnateWebhook, Webhook, Schedule];
}

public sealed record TriggerDefinition
{
    [Description("api | enateAction | enateWebhook | webhook | schedule")]
    public required string Type { get; init; }

    [Description("For enateWebhook: PacketCreated, PacketUpdated, NewCommunication, BusinessObjectCreated, BusinessObjectUpdated or SpecificBusinessObjectUpdated.")]
    public string? Webhook { get; init; }

    [Description("For enateWebhook: JMESPath over the webhook body; the recipe runs only when it is truthy.")]
    public string? Filter { get; init; }

    [Description("For schedule: a cron expression of five fields (minute hour day month weekday) or six (seconds first), read in the time zone.")]
    public string? Cron { get; init; }

    [Description("For schedule: the IANA time zone the cron is read in (e.g. Europe/London). Default UTC.")]
    public string? TimeZone { get; init; }

    [Description("For schedule: what happens to occurrences found late (the Workers were down): skip (default) runs none of them, runOnce runs the latest once.")]
    public string? Missed { get; init; }
}

/// One step. Which fields apply depends on the type: http, transform, filter or enate.
public sealed record StepDefinition
{
    [Description("Unique within the recipe; later steps read this step's output as steps.<id>.")]
    public required string Id { get; init; }

    [Description("http | transform | filter | enate")]
    public required string Type { get; init; }

    [Description("http and enate: the name of the connection to call.")]
    public string? Connection { get; init; }

    [Description("http: GET, POST, PUT, PATCH or DELETE.")]
    public string? Method { get; init; }

    [Description("http: a Liquid template for the path (or absolute URL) relative to the connection's base URL.")]
    public string? Path { get; init; }

    [Description("http: extra headers; each value is a Liquid template.")]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    [Description("http: the JSON body, either a Liquid template that renders JSON (a string) or JSON written out whose string values are Liquid templates and whose {\"$select\": \"<JMESPath>\"} objects take any JSON value from the run context.")]
    public JsonTemplate? Body { get; init; }

    [Description("transform: the JSON to produce, either a Liquid template that renders JSON (a string) or JSON written out whose string values are Liquid templates and whose {\"$select\": \"<JMESPath>\"} objects take any JSON value (the selected data is `data`).")]
    public JsonTemplate? Template { get; init; }

    [Description("transform: a JMESPath expression over the run context (input, steps, recipe, run, tenant).")]
    public string? Select { get; init; }

    [Description("transform: parse the selected value from csv or xlsx (base64) into an array of rows before the template.")]
    public string? From { get; init; }

    [Description("transform: serialize the result as csv or xlsx (base64).")]
    public string? To { get; init; }

    [Description("filter: a JMESPath condition; when it is falsy the run ends as skipped.")]
    public string? Condition { get; init; }

    [Description("enate: the operation (getPacket, findPackets, updateCustomData, createCase, createTicket, addNote, notifyOwner, createUser, replaceDataList, completeAction, rejectAction).")]
    public string? Operation { get; init; }

    [Description("enate: the operation's arguments; string values are Liquid templates.")]
    public JsonObject? Args { get; init; }
}

public sealed record CallbackDefinition
{
    [Description("none: Enate moves on; callEnate: after the run, call the action's CallBackURL with the outcome.")]
    public required string Mode { get; init; }

    [Description("callEnate: the enate connection whose credentials authenticate the callback.")]
    public string? Connection { get; init; }

    [Description("callEnate: a Liquid template rendering the custom data to send back on success.")]
    public string? CustomData { get; init; }
}

public sealed record RetryPolicy
{
    [Description("Delays before each attempt, as ISO 8601 durations or seconds; the first is usually PT0S. The length is the number of attempts.")]
    public IReadOnlyList<string>? Schedule { get; init; }

    [Description("Relative jitter applied to each delay, 0 to 0.5. Default 0.2.")]
    public double? Jitter { get; init; }
}
