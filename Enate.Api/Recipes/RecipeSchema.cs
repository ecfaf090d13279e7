using System.Text.Json.Nodes;
using Enate.Domain.Engine;
using Enate.Domain.Recipes;

namespace Enate.Api.Recipes;

/// Makes the schema exported from RecipeDefinition one an editor can complete and check a recipe with: a step is one
/// of four shapes chosen by its `type`, each with only its own fields, and every closed set of values is an enum.
public static class RecipeSchema
{
    private static readonly Dictionary<string, (string[] Fields, string[] Required)> Steps = new()
    {
        [StepTypes.Http] = (["connection", "method", "path", "headers", "body"], ["connection", "path"]),
        [StepTypes.Transform] = (["select", "from", "template", "to"], []),
        [StepTypes.Filter] = (["condition"], ["condition"]),
        [StepTypes.Enate] = (["connection", "operation", "args"], ["connection", "operation"]),
    };

    private static readonly Dictionary<string, string[]> Enums = new()
    {
        ["method"] = RecipeValidator.Methods,
        ["from"] = DataFormats.All,
        ["to"] = DataFormats.All,
        ["operation"] = EnateOperations.Names.Order().ToArray(),
    };

    public static void Refine(JsonObject schema)
    {
        var properties = (JsonObject)schema["properties"]!;
        properties.Insert(0, "$schema", new JsonObject
        {
            ["description"] = "The JSON Schema the recipe follows, for editors; not part of the recipe.",
            ["type"] = "string",
        });
        Restrict(properties["trigger"], "type", TriggerTypes.All);
        Restrict(properties["trigger"], "webhook", RecipeValidator.EnateWebhooks);
        Restrict(properties["trigger"], "missed", MissedPolicies.All);
        Restrict(properties["callback"], "mode", ["none", "callEnate"]);

        var steps = (JsonObject)properties["steps"]!;
        var fields = (JsonObject)steps["items"]!["properties"]!;
        steps["items"] = new JsonObject
        {
            ["description"] = "A step; its `type` decides which fields it has.",
            ["oneOf"] = new JsonArray(StepTypes.All.Select(type => (JsonNode)Step(type, fields)).ToArray()),
        };
    }

    private static JsonObject Step(string type, JsonObject fields)
    {
        var (own, required) = Steps[type];
        var properties = new JsonObject
        {
            ["id"] = fields["id"]!.DeepClone(),
            ["type"] = new JsonObject { ["const"] = type },
        };
        foreach (var name in own)
        {
            var field = fields[name]!.DeepClone().AsObject();
            if (Enums.TryGetValue(name, out var values)) Closed(field, values);
            properties[name] = field;
        }
        return new JsonObject
        {
            ["title"] = $"{type} step",
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = new JsonArray(new[] { "id", "type" }.Concat(required).Select(r => (JsonNode)r).ToArray()),
            ["additionalProperties"] = false,
        };
    }

    private static void Restrict(JsonNode? parent, string name, IEnumerable<string> values)
    {
        if (parent?["properties"]?[name] is JsonObject field) Closed(field, values);
    }

    private static void Closed(JsonObject field, IEnumerable<string> values)
    {
        field["type"] = "string";
        field["enum"] = new JsonArray(values.Select(v => (JsonNode)v).ToArray());
    }
}
