using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Newtonsoft.Json.Linq;

namespace Enate.Domain.Transforms;

// JmesPath.Net only speaks Newtonsoft; walking the trees avoids a serialize/parse round trip per evaluation.
internal static class NewtonsoftBridge
{
    public static JToken ToJToken(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return JValue.CreateNull();
            case JsonObject obj:
                var target = new JObject();
                // A key given twice keeps its last value, as PostgreSQL's jsonb keeps it.
                foreach (var (name, value) in obj) target[name] = ToJToken(value);
                return target;
            case JsonArray array:
                var items = new JArray();
                foreach (var item in array) items.Add(ToJToken(item));
                return items;
            default:
                var scalar = node.AsValue();
                return scalar.GetValueKind() switch
                {
                    JsonValueKind.String => new JValue(JsonScalars.String(scalar)),
                    JsonValueKind.Number => Number(scalar),
                    JsonValueKind.True => new JValue(true),
                    JsonValueKind.False => new JValue(false),
                    _ => JValue.CreateNull(),
                };
        }
    }

    // Same number types as Newtonsoft's own parser (long, else double), which is what JmesPath.Net is tested with.
    private static JValue Number(JsonValue value)
    {
        if (value.TryGetValue<long>(out var whole)) return new JValue(whole);
        var text = value.ToJsonString();
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out whole)) return new JValue(whole);
        if (BigInteger.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var big)) return new JValue(big);
        return new JValue(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    public static JsonNode? ToJsonNode(JToken? token)
    {
        switch (token)
        {
            case null:
                return null;
            case JObject obj:
                var target = new JsonObject();
                foreach (var property in obj.Properties()) target[property.Name] = ToJsonNode(property.Value);
                return target;
            case JArray array:
                var items = new JsonArray();
                foreach (var item in array) items.Add(ToJsonNode(item));
                return items;
            case JValue value:
                return value.Type switch
                {
                    JTokenType.Null or JTokenType.Undefined => null,
                    JTokenType.String => JsonValue.Create((string)value.Value!),
                    JTokenType.Boolean => JsonValue.Create((bool)value.Value!),
                    JTokenType.Integer => value.Value switch
                    {
                        long l => JsonScalars.Number(l),
                        int i => JsonScalars.Number(i),
                        // Too big for long: keep every digit by letting the JSON parser hold it.
                        BigInteger b => JsonNode.Parse(b.ToString(CultureInfo.InvariantCulture)),
                        var other => JsonScalars.Number(Convert.ToInt64(other, CultureInfo.InvariantCulture)),
                    },
                    JTokenType.Float => value.Value switch
                    {
                        decimal m => JsonScalars.Number(m),
                        var other => JsonScalars.Number(Convert.ToDouble(other, CultureInfo.InvariantCulture)),
                    },
                    JTokenType.Date => JsonValue.Create(value.ToString("o", CultureInfo.InvariantCulture)),
                    _ => JsonValue.Create(value.ToString(CultureInfo.InvariantCulture)),
                };
            default:
                return JsonNode.Parse(token.ToString(Newtonsoft.Json.Formatting.None));
        }
    }
}

internal static class JsonScalars
{
    // Values built in code (DateTime, Guid...) report kind String without being stored as a string.
    public static string String(JsonValue value) =>
        value.TryGetValue<string>(out var text) ? text : JsonSerializer.Deserialize<string>(value.ToJsonString())!;

    // Numbers backed by a JsonElement read back as any numeric type (GetValue<int> on a long-backed value throws), like parsed JSON.
    public static JsonValue Number<T>(T number) => JsonValue.Create(JsonSerializer.SerializeToElement(number))!;

    public static bool TryDecimal(JsonValue value, out decimal number) =>
        value.TryGetValue(out number)
        || decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
}
