using System.Text.RegularExpressions;
using Enate.Domain.Connections;
using Enate.Domain.Engine;
using Enate.Domain.Transforms;

namespace Enate.Domain.Recipes;

/// A problem in a recipe definition, located by its JSON path.
public sealed record RecipeProblem(string Path, string Message);

/// Checks a definition at save time and reports every problem, so none is found at run time.
public static partial class RecipeValidator
{
    public static readonly string[] EnateWebhooks =
        ["PacketCreated", "PacketUpdated", "NewCommunication", "BusinessObjectCreated", "BusinessObjectUpdated", "SpecificBusinessObjectUpdated"];
    public static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// Steps one recipe may hold: each is checked at every save and run in turn at every run; thousands (a dry run of
    /// 5,000 took 15-25 s) are a mistake or an attack, not a process.
    public const int MaxSteps = 200;

    /// <param name="connections">The tenant's connections by name.</param>
    public static List<RecipeProblem> Validate(RecipeDefinition recipe, IReadOnlyDictionary<string, Connection> connections)
    {
        var connectionKinds = connections.ToDictionary(c => c.Key, c => c.Value.Kind);
        var problems = new List<RecipeProblem>();
        void Add(string path, string message) => problems.Add(new(path, message));
        void Liquid(string path, string? template)
        {
            if (template is not null && Templates.Validate(template) is { } error) Add(path, error);
        }
        void JmesPath(string path, string? expression)
        {
            if (expression is not null && Expressions.Validate(expression) is { } error) Add(path, error);
        }
        // JSON to render: a Liquid template as a string, or JSON written out with templates and $select inside.
        void CheckJson(string path, System.Text.Json.Nodes.JsonNode? node)
        {
            switch (node)
            {
                case null:
                    return;
                case System.Text.Json.Nodes.JsonValue v when v.TryGetValue<string>(out var template):
                    Liquid(path, template);
                    return;
                case System.Text.Json.Nodes.JsonObject o when o.Count == 1 && o.ContainsKey("$select"):
                    if (o["$select"] is System.Text.Json.Nodes.JsonValue s && s.TryGetValue<string>(out var select)) JmesPath($"{path}.$select", select);
                    else Add($"{path}.$select", "must be a JMESPath expression (a string).");
                    return;
                case System.Text.Json.Nodes.JsonObject o:
                    foreach (var (name, value) in o) CheckJson($"{path}.{name}", value);
                    return;
                case System.Text.Json.Nodes.JsonArray a:
                    for (var i = 0; i < a.Count; i++) CheckJson($"{path}[{i}]", a[i]);
                    return;
            }
        }

        if (string.IsNullOrWhiteSpace(recipe.Name)) Add("$.name", "is required.");

        var trigger = recipe.Trigger;
        if (trigger is null) Add("$.trigger", "is required.");
        else
        {
            if (!TriggerTypes.All.Contains(trigger.Type)) Add("$.trigger.type", $"must be one of {string.Join(", ", TriggerTypes.All)}.");
            if (trigger.Type == "enateWebhook" && !EnateWebhooks.Contains(trigger.Webhook))
                Add("$.trigger.webhook", $"must be one of {string.Join(", ", EnateWebhooks)}.");
            JmesPath("$.trigger.filter", trigger.Filter);
            foreach (var (path, message) in Occurrences.Problems(trigger)) Add(path, message);
        }

        JmesPath("$.idempotencyKey", recipe.IdempotencyKey);
        JmesPath("$.workItem", recipe.WorkItem);

        if (recipe.Steps is null || recipe.Steps.Count == 0) Add("$.steps", "must hold at least one step.");
        else if (recipe.Steps.Count > MaxSteps) Add("$.steps", $"must hold at most {MaxSteps} steps.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (recipe.Steps?.Count ?? 0); i++)
        {
            var step = recipe.Steps![i];
            var at = $"$.steps[{i}]";
            if (step is null)
            {
                Add(at, "must be an object.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(step.Id) || !System.Text.RegularExpressions.Regex.IsMatch(step.Id, "^[A-Za-z_][A-Za-z0-9_]{0,63}$"))
                Add($"{at}.id", "must be an identifier (letters, digits, '_'; not starting with a digit), so templates can say steps.<id>.");
            else if (!seen.Add(step.Id)) Add($"{at}.id", $"'{step.Id}' is used by an earlier step.");

            // Templates may read only the steps before this one.
            foreach (var reference in StepReferences.In(step))
            {
                if (!seen.Contains(reference) || reference == step.Id)
                    Add(at, $"refers to steps.{reference}, which is not an earlier step.");
            }

            switch (step.Type)
            {
                case StepTypes.Http:
                    CheckConnection(step, at, "http", connectionKinds, Add);
                    if (step.Method is not null && !Methods.Contains(step.Method.ToUpperInvariant()))
                        Add($"{at}.method", $"must be one of {string.Join(", ", Methods)}.");
                    if (string.IsNullOrWhiteSpace(step.Path)) Add($"{at}.path", "is required.");
                    Liquid($"{at}.path", step.Path);
                    var connection = step.Connection is null ? null : connections.GetValueOrDefault(step.Connection);
                    if (step.Path is not null && connection is not null && OriginProblem(step.Path, connection) is { } elsewhere)
                        Add($"{at}.path", elsewhere);
                    CheckJson($"{at}.body", step.Body?.Node);
                    foreach (var (name, value) in step.Headers ?? new Dictionary<string, string>())
                    {
                        Liquid($"{at}.headers.{name}", value);
                        if (OutboundRequests.IsReserved(name, connection?.Auth))
                            Add($"{at}.headers.{name}", "is set by the platform (the transport or the connection's credentials): a step may not set it.");
                    }
                    break;
                case StepTypes.Enate:
                    CheckConnection(step, at, "enate", connectionKinds, Add);
                    if (!EnateOperations.Exists(step.Operation))
                        Add($"{at}.operation", $"must be one of {string.Join(", ", EnateOperations.Names)}.");
                    else
                        foreach (var required in EnateOperations.RequiredArgs(step.Operation!).Where(r => step.Args?[r] is null))
                            Add($"{at}.args.{required}", $"is required by {step.Operation}.");
                    foreach (var (name, value) in step.Args ?? [])
                    {
                        if (value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var template)) Liquid($"{at}.args.{name}", template);
                        else if (value is System.Text.Json.Nodes.JsonObject o && o["$select"] is System.Text.Json.Nodes.JsonValue s && s.TryGetValue<string>(out var select))
                            JmesPath($"{at}.args.{name}.$select", select);
                    }
                    break;
                case StepTypes.Transform:
                    if (step.Template is null && step.Select is null && step.To is null)
                        Add(at, "a transform needs a template, a select or a to.");
                    CheckJson($"{at}.template", step.Template?.Node);
                    JmesPath($"{at}.select", step.Select);
                    if (step.From is not null && !DataFormats.All.Contains(step.From)) Add($"{at}.from", $"must be one of {string.Join(", ", DataFormats.All)}.");
                    if (step.To is not null && !DataFormats.All.Contains(step.To)) Add($"{at}.to", $"must be one of {string.Join(", ", DataFormats.All)}.");
                    break;
                case StepTypes.Filter:
                    if (string.IsNullOrWhiteSpace(step.Condition)) Add($"{at}.condition", "is required.");
                    JmesPath($"{at}.condition", step.Condition);
                    break;
                default:
                    Add($"{at}.type", $"'{step.Type}' is not a step type; use one of {string.Join(", ", StepTypes.All)}.");
                    break;
            }
        }

        if (recipe.Callback is { } callback)
        {
            if (callback.Mode is not ("none" or "callEnate")) Add("$.callback.mode", "must be none or callEnate.");
            if (callback.Mode == "callEnate" && trigger?.Type != "enateAction")
                Add("$.callback.mode", "callEnate needs an enateAction trigger: only an Enate action has a CallBackURL.");
            if (callback.Mode == "callEnate")
                CheckConnection(new StepDefinition { Id = "callback", Type = "enate", Connection = callback.Connection }, "$.callback", "enate", connectionKinds, Add);
            Liquid("$.callback.customData", callback.CustomData);
        }

        if (recipe.Retry is { } retry)
        {
            var schedule = retry.Schedule ?? [];
            if (retry.Schedule is { Count: 0 } || schedule.Count > 20) Add("$.retry.schedule", "must hold 1 to 20 delays.");
            for (var i = 0; i < schedule.Count; i++)
            {
                if (!RetrySchedule.TryParseDelay(schedule[i], out var delay))
                    Add($"$.retry.schedule[{i}]", $"'{schedule[i]}' is not an ISO 8601 duration or a number of seconds.");
                else if (delay > RetrySchedule.MaxDelay)
                    Add($"$.retry.schedule[{i}]", $"'{schedule[i]}' is longer than the most a retry may wait (P{RetrySchedule.MaxDelay.TotalDays:0}D).");
            }
            if (retry.Jitter is < 0 or > 0.5) Add("$.retry.jitter", "must be between 0 and 0.5.");
        }
        return problems;
    }

    /// What a recipe author should know though nothing is wrong: the paths that render a value raw, which can then
    /// change the URL beyond one segment.
    public static List<RecipeProblem> Notes(RecipeDefinition recipe)
    {
        var notes = new List<RecipeProblem>();
        for (var i = 0; i < (recipe.Steps?.Count ?? 0); i++)
        {
            if (recipe.Steps![i]?.Path is { } path && RawFilter().IsMatch(path))
                notes.Add(new($"$.steps[{i}].path",
                    "renders a value with '| raw': that value is not encoded, so it can change the path and query beyond one segment (never the origin)."));
        }
        return notes;
    }

    /// Why a step's path would call another origin than its connection's, known from the path's text alone: an absolute
    /// URL must write its origin out, and that origin must be the connection's.
    private static string? OriginProblem(string path, Connection connection)
    {
        var template = path.IndexOfAny(['{']) is var brace and >= 0 ? brace : path.Length;
        var head = path[..template].TrimStart();
        if (!SchemePrefix().IsMatch(head)) return null;
        var origin = Written().Match(head) is { Success: true } written ? Origins.Of(written.Groups["origin"].Value)
            : template == path.Length ? Origins.Of(head)
            : null;
        if (origin is null)
            return "is an absolute URL whose origin is not written out: a template may not choose where a call goes.";
        return origin == Origins.Of(connection.BaseUrl)
            ? null
            : $"is an absolute URL on {origin}, not on connection '{connection.Id}' ({Origins.Of(connection.BaseUrl)}): a step calls its own connection's origin only, which its credentials are for.";
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePrefix();

    [GeneratedRegex(@"^(?<origin>https?://[^/?#]+)[/?#]", RegexOptions.IgnoreCase)]
    private static partial Regex Written();

    [GeneratedRegex(@"\|\s*raw\b")]
    private static partial Regex RawFilter();

    private static void CheckConnection(StepDefinition step, string at, string kind, IReadOnlyDictionary<string, string> kinds, Action<string, string> add)
    {
        if (string.IsNullOrWhiteSpace(step.Connection)) add($"{at}.connection", "is required.");
        else if (!kinds.TryGetValue(step.Connection, out var actual)) add($"{at}.connection", $"connection '{step.Connection}' does not exist.");
        else if (kind == "enate" && actual != "enate") add($"{at}.connection", $"connection '{step.Connection}' is of kind '{actual}', not 'enate'.");
    }
}
