using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Enate.Domain.Recipes;

/// JSON a step produces (an http body, a transform's result), as the recipe writes it: a string is a Liquid template
/// that renders JSON; JSON written out keeps its shape, its string values rendered as Liquid templates and each
/// `{"$select": "<JMESPath>"}` replaced by the value it selects (Templates.RenderJson).
/// Its members keep the order they were written in wherever it is stored: jsonb orders an object's members by itself,
/// so the event store holds JSON written out as its text (`{"$json": "…"}`, the Stored converter); a template in a
/// string is stored as the string it is.
[JsonConverter(typeof(Natural))]
public sealed class JsonTemplate(JsonNode node)
{
    public JsonNode Node { get; } = node;

    public static implicit operator JsonTemplate(string template) => new(JsonValue.Create(template));

    public bool IsText(out string template)
    {
        template = "";
        if (Node is not JsonValue value || !value.TryGetValue(out string? text)) return false;
        template = text;
        return true;
    }

    /// The JSON as the recipe wrote it: for the API and for hashing a definition.
    public sealed class Natural : JsonConverter<JsonTemplate>
    {
        public override JsonTemplate? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonNode.Parse(ref reader) is { } node ? new JsonTemplate(node) : null;

        public override void Write(Utf8JsonWriter writer, JsonTemplate value, JsonSerializerOptions options) => value.Node.WriteTo(writer, options);
    }

    /// For the event store: JSON written out is kept as its text, so its members keep their order.
    public sealed class Stored : JsonConverter<JsonTemplate>
    {
        private const string Wrapper = "$json";

        public override JsonTemplate? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var node = JsonNode.Parse(ref reader);
            if (node is JsonObject { Count: 1 } wrapped && wrapped[Wrapper] is JsonValue text && text.TryGetValue(out string? json))
                node = JsonNode.Parse(json);
            return node is null ? null : new JsonTemplate(node);
        }

        public override void Write(Utf8JsonWriter writer, JsonTemplate value, JsonSerializerOptions options)
        {
            if (value.IsText(out var template))
            {
                writer.WriteStringValue(template);
                return;
            }
            writer.WriteStartObject();
            writer.WriteString(Wrapper, value.Node.ToJsonString());
            writer.WriteEndObject();
        }
    }
}
