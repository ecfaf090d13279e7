using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enate.Domain.Replays;

/// One difference between two JSON documents, located by a JSON Pointer (RFC 6901) into them.
public sealed record JsonChange(string Path, string Op, JsonNode? Before, JsonNode? After);

/// A structural difference: objects by member, arrays by position, numbers by value (1 equals 1.0).
public static class JsonDiff
{
    public const string Added = "added";
    public const string Removed = "removed";
    public const string Changed = "changed";

    public static List<JsonChange> Compare(JsonNode? before, JsonNode? after, int max = 200)
    {
        var changes = new List<JsonChange>();
        Walk(before, after, "", changes, max);
        return changes;
    }

    /// Bodies as sent: compared as JSON when both parse, else as text (one change at the root).
    public static List<JsonChange> CompareBodies(string? before, string? after, int max = 200)
    {
        if (before == after) return [];
        if (TryParse(before, out var b) && TryParse(after, out var a)) return Compare(b, a, max);
        return [new JsonChange("", before is null ? Added : after is null ? Removed : Changed, before, after)];
    }

    public static bool TryParse(string? text, out JsonNode? node)
    {
        node = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            node = JsonNode.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static string Escape(string name) => name.Replace("~", "~0").Replace("/", "~1");

    private static void Walk(JsonNode? before, JsonNode? after, string path, List<JsonChange> changes, int max)
    {
        if (changes.Count >= max) return;
        switch (before, after)
        {
            case (JsonObject b, JsonObject a):
                foreach (var (name, value) in b)
                {
                    var at = path + "/" + Escape(name);
                    if (!a.ContainsKey(name)) Add(changes, max, new JsonChange(at, Removed, value?.DeepClone(), null));
                    else Walk(value, a[name], at, changes, max);
                }
                foreach (var (name, value) in a)
                {
                    if (!b.ContainsKey(name)) Add(changes, max, new JsonChange(path + "/" + Escape(name), Added, null, value?.DeepClone()));
                }
                return;
            case (JsonArray b, JsonArray a):
                for (var i = 0; i < Math.Max(b.Count, a.Count); i++)
                {
                    var at = path + "/" + i;
                    if (i >= a.Count) Add(changes, max, new JsonChange(at, Removed, b[i]?.DeepClone(), null));
                    else if (i >= b.Count) Add(changes, max, new JsonChange(at, Added, null, a[i]?.DeepClone()));
                    else Walk(b[i], a[i], at, changes, max);
                }
                return;
            default:
                if (!SameValue(before, after)) Add(changes, max, new JsonChange(path, Changed, before?.DeepClone(), after?.DeepClone()));
                return;
        }
    }

    private static bool SameValue(JsonNode? before, JsonNode? after)
    {
        if (before is null || after is null) return before is null && after is null;
        if (before.GetValueKind() == JsonValueKind.Number && after.GetValueKind() == JsonValueKind.Number &&
            decimal.TryParse(before.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var b) &&
            decimal.TryParse(after.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var a))
        {
            return b == a;
        }
        return JsonNode.DeepEquals(before, after);
    }

    private static void Add(List<JsonChange> changes, int max, JsonChange change)
    {
        if (changes.Count < max) changes.Add(change);
    }
}
