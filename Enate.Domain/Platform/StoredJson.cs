using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Enate.Domain.Platform;

/// PostgreSQL's jsonb holds any JSON but the character U+0000 and unpaired UTF-16 surrogates, both of which JSON text
/// may carry as escapes ("\u0000", "\ud800"). The event store keeps every value anyway:
/// - a JSON value (a run's input, a step's output) that holds such an escape is stored as its JSON text, inside an
///   object with the single member `$json` — `{"$json": "{\"subject\":\"a\\u0000b\"}"}` — and read back exactly as it
///   was; a value that is itself such an object is wrapped too, so reading never mistakes data for the wrapper;
/// - in a plain text (a failure's reason, a header value) U+0000 is stored as U+FFFD: such texts are for people.
/// The API shows the values as they were; an export and the audit chain show the stored form.
public static class StoredJson
{
    public const string Wrapper = "$json";

    public static void AddConverters(JsonSerializerOptions options)
    {
        options.Converters.Add(new ElementConverter());
        options.Converters.Add(new NodeConverter());
        options.Converters.Add(new TextConverter());
    }

    /// Whether jsonb could not hold this value as it is.
    public static bool NeedsWrapping(JsonElement element)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        // The escapes first: a member's name that escapes half a surrogate pair cannot even be compared.
        for (var at = raw.IndexOf("\\u"u8); at >= 0 && at + 6 <= raw.Length; )
        {
            var hex = raw.Slice(at + 2, 4);
            if (hex.SequenceEqual("0000"u8) || ((hex[0] | 0x20) == 'd' && hex[1] is (byte)'8' or (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F'))
                return true;
            var next = raw[(at + 2)..].IndexOf("\\u"u8);
            at = next < 0 ? -1 : at + 2 + next;
        }
        return element.ValueKind == JsonValueKind.Object && IsWrapper(element);
    }

    private static bool IsWrapper(JsonElement element)
    {
        using var members = element.EnumerateObject();
        return members.MoveNext() && members.Current.NameEquals(Wrapper) && members.Current.Value.ValueKind == JsonValueKind.String &&
               !members.MoveNext();
    }

    private sealed class ElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var element = document.RootElement;
            if (element.ValueKind == JsonValueKind.Object && IsWrapper(element))
            {
                using var original = JsonDocument.Parse(element.GetProperty(Wrapper).GetString()!);
                return original.RootElement.Clone();
            }
            return element.Clone();
        }

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options)
        {
            if (value.ValueKind == JsonValueKind.Undefined)
            {
                writer.WriteNullValue();
                return;
            }
            if (!NeedsWrapping(value))
            {
                value.WriteTo(writer);
                return;
            }
            writer.WriteStartObject();
            writer.WriteString(Wrapper, value.GetRawText());
            writer.WriteEndObject();
        }
    }

    /// The same for a JSON value held as a node (a what-if's request bodies and differences).
    private sealed class NodeConverter : JsonConverter<JsonNode>
    {
        private static readonly ElementConverter Elements = new();

        public override JsonNode? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonNode.Parse(Elements.Read(ref reader, typeof(JsonElement), options).GetRawText());

        public override void Write(Utf8JsonWriter writer, JsonNode value, JsonSerializerOptions options) =>
            Elements.Write(writer, JsonSerializer.SerializeToElement(value), options);
    }

    private sealed class TextConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetString();

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.Contains('\0') ? value.Replace('\0', '\uFFFD') : value);
    }
}

/// Checks on JSON text that the parser lets through.
public static class JsonText
{
    /// What is wrong with JSON text that escapes half a surrogate pair, for a problem's detail.
    public const string UnpairedSurrogate = "a string holds an unpaired UTF-16 surrogate escape (such as \\ud800), which is no character.";

    /// The value as a JsonNode, a key given twice keeping its last value, as jsonb keeps it: a JsonNode parsed from
    /// text that repeats a key fails when its object is first read. Without repeats it is parsed (a node made lazily as
    /// it is read); with them it is built member by member from a copy of the element, so the node outlives the
    /// document the element came from.
    public static System.Text.Json.Nodes.JsonNode? Node(JsonElement element)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(element.GetRawText(), documentOptions: NoRepeats);
        }
        catch (JsonException)
        {
            return NodeOf(element.Clone());
        }
    }

    private static readonly JsonDocumentOptions NoRepeats = new() { AllowDuplicateProperties = false };

    private static System.Text.Json.Nodes.JsonNode? NodeOf(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var node = new System.Text.Json.Nodes.JsonObject();
                foreach (var member in element.EnumerateObject()) node[member.Name] = NodeOf(member.Value);
                return node;
            case JsonValueKind.Array:
                var items = new System.Text.Json.Nodes.JsonArray();
                foreach (var item in element.EnumerateArray()) items.Add(NodeOf(item));
                return items;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return null;
            default:
                return System.Text.Json.Nodes.JsonValue.Create(element);
        }
    }

    /// Whether a string or member name of the value escapes half of a surrogate pair, which decodes to no character.
    public static bool HasUnpairedSurrogate(JsonElement element)
    {
        // Cheap first: without a "\u" escape of a surrogate there is nothing to look at.
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (raw.IndexOf("\\u"u8) < 0 || !StoredJson.NeedsWrapping(element)) return false;
        return !Decodes(element);
    }

    private static bool Decodes(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    element.GetString();
                    return true;
                case JsonValueKind.Object:
                    foreach (var member in element.EnumerateObject())
                    {
                        _ = member.Name;
                        if (!Decodes(member.Value)) return false;
                    }
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                        if (!Decodes(item)) return false;
                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
