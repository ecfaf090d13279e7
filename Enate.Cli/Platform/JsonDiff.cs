using System.Text.Json.Nodes;

namespace Enate.Cli;

/// One difference between two versions of a recipe, at a JSON path.
public sealed record Change(string Path, JsonNode? Before, JsonNode? After)
{
    public string Kind => Before is null ? "added" : After is null ? "removed" : "changed";

    public JsonObject ToJson() => new() { ["path"] = Path, ["kind"] = Kind, ["before"] = Before?.DeepClone(), ["after"] = After?.DeepClone() };
}

/// The differences between two JSON documents, property by property and item by item; a null property and a missing
/// one are the same (the platform leaves unset fields out or writes them as null).
public static class JsonDiff
{
    public static IReadOnlyList<Change> Between(JsonNode? before, JsonNode? after)
    {
        var changes = new List<Change>();
        Walk("$", before, after, changes);
        return changes;
    }

    private static void Walk(string path, JsonNode? before, JsonNode? after, List<Change> changes)
    {
        switch (before, after)
        {
            case (null, null):
                return;
            case (JsonObject a, JsonObject b):
                foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
                    Walk($"{path}.{name}", a[name], b[name], changes);
                return;
            case (JsonArray a, JsonArray b):
                for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
                    Walk($"{path}[{i}]", i < a.Count ? a[i] : null, i < b.Count ? b[i] : null, changes);
                return;
            default:
                if (!JsonNode.DeepEquals(before, after)) changes.Add(new Change(path, before, after));
                return;
        }
    }

    /// A copy without null properties: what a recipe file holds, and what two definitions are compared on.
    public static JsonNode? WithoutNulls(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Key, WithoutNulls(p.Value)))),
        JsonArray a => new JsonArray(a.Select(WithoutNulls).ToArray()),
        _ => node?.DeepClone(),
    };
}
