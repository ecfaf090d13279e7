using System.Text.Json.Nodes;
using Enate.Domain.Recipes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Engine;

/// Typed calls on an Enate connection. Each names the arguments it takes; the rest of the
/// arguments become the JSON body. A string argument is a Liquid template; an object
/// {"$select": "<JMESPath>"} takes any JSON value from the run context.
public static class EnateOperations
{
    private sealed record Operation(string Method, string Path, string[] PathArgs, string[] Required);

    private static readonly Dictionary<string, Operation> All = new(StringComparer.Ordinal)
    {
        ["getPacket"] = new("GET", "/api/v1/Packet/{guid}", ["guid"], ["guid"]),
        // Finds work items by customer (e.g. "the case of that customer"); further arguments become the query.
        ["findPackets"] = new("GET", "/api/v1/Packet/Search", [], ["customerName"]),
        ["updateCustomData"] = new("POST", "/api/v1/Packet/{guid}/CustomData", ["guid"], ["guid", "customData"]),
        ["createCase"] = new("POST", "/api/v1/Case", [], ["title"]),
        ["createTicket"] = new("POST", "/api/v1/Ticket", [], ["title"]),
        ["addNote"] = new("POST", "/api/v1/Packet/{guid}/Note", ["guid"], ["guid", "note"]),
        ["notifyOwner"] = new("POST", "/api/v1/Packet/{guid}/NotifyOwner", ["guid"], ["guid", "message"]),
        ["createUser"] = new("POST", "/api/v1/User", [], ["email"]),
        ["replaceDataList"] = new("PUT", "/api/v1/DataList/{name}", ["name"], ["name", "entries"]),
        // The action's CallBackURL is absolute: Enate hands it over with the action.
        ["completeAction"] = new("POST", "{callbackUrl}", ["callbackUrl"], ["callbackUrl"]),
        ["rejectAction"] = new("POST", "{callbackUrl}", ["callbackUrl"], ["callbackUrl", "rejectedReason"]),
    };

    public static IReadOnlyCollection<string> Names => All.Keys;

    public static bool Exists(string? name) => name is not null && All.ContainsKey(name);

    public static IReadOnlyList<string> RequiredArgs(string name) => All[name].Required;

    public static CallPlan Plan(StepDefinition step, JsonObject context, TransformBudget budget)
    {
        var operation = All[step.Operation!];
        var args = new JsonObject();
        foreach (var (name, value) in step.Args ?? [])
        {
            args[name] = Templates.Resolve(value, context, budget);
        }

        var path = operation.Path;
        foreach (var name in operation.PathArgs)
        {
            var value = args[name]?.ToString() ?? "";
            path = path.Replace("{" + name + "}", name == "callbackUrl" ? value : Uri.EscapeDataString(value));
            args.Remove(name);
        }
        if (step.Operation == "completeAction") args["outcome"] = "success";
        if (step.Operation == "rejectAction") args["outcome"] = "failure";

        if (operation.Method == "GET" && args.Count > 0)
        {
            path += "?" + string.Join("&", args.Select(a => $"{Uri.EscapeDataString(a.Key)}={Uri.EscapeDataString(Text(a.Value))}"));
            args.Clear();
        }
        var body = operation.Method == "GET" ? null : args.ToJsonString();
        return new CallPlan(step.Connection!, operation.Method, path, new Dictionary<string, string>(), body,
            body is null ? null : "application/json", Callback: operation.PathArgs.Contains("callbackUrl"));
    }

    private static string Text(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : value?.ToJsonString() ?? "";
}
