using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enate.Domain.Runs;

/// The data templates and expressions see: input, each earlier step's output, and metadata.
public static class RunContext
{
    public static JsonObject Build(Guid runId, string tenantId, string recipeKey, int recipeVersion, JsonElement input,
        IEnumerable<KeyValuePair<string, JsonElement>> completedSteps)
    {
        var steps = new JsonObject();
        foreach (var (id, output) in completedSteps) steps[id] = Platform.JsonText.Node(output);
        return new JsonObject
        {
            ["input"] = Platform.JsonText.Node(input),
            ["steps"] = steps,
            ["recipe"] = new JsonObject { ["key"] = recipeKey, ["version"] = recipeVersion },
            ["run"] = new JsonObject { ["id"] = runId.ToString() },
            ["tenant"] = new JsonObject { ["id"] = tenantId },
        };
    }

    public static JsonElement ToElement(JsonNode? node) =>
        node is null ? JsonSerializer.SerializeToElement<object?>(null) : JsonSerializer.SerializeToElement(node);
}
