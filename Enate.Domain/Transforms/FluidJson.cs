using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;

namespace Enate.Domain.Transforms;

// Lets Liquid walk JsonNode data as it is, converting a node only when a template reaches it.
internal static class FluidJson
{
    public static FluidValue ToFluid(JsonNode? node) => node switch
    {
        null => NilValue.Instance,
        JsonObject obj => new DictionaryValue(new JsonObjectIndexable(obj)),
        JsonArray array => new ArrayValue(array.Select(ToFluid).ToArray()),
        _ => Scalar(node.AsValue()),
    };

    private static FluidValue Scalar(JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return new StringValue(JsonScalars.String(value));
            case JsonValueKind.Number:
                // Decimal avoids binary rounding in sums and comparisons; anything beyond its range is shown as the original text.
                return JsonScalars.TryDecimal(value, out var number)
                    ? NumberValue.Create(number)
                    : new StringValue(value.ToJsonString());
            case JsonValueKind.True:
                return BooleanValue.True;
            case JsonValueKind.False:
                return BooleanValue.False;
            default:
                return NilValue.Instance;
        }
    }

    public static JsonNode? ToJson(FluidValue value, TemplateContext context)
    {
        switch (value.Type)
        {
            case FluidValues.Nil:
            case FluidValues.Empty:
            case FluidValues.Blank:
                return null;
            case FluidValues.Boolean:
                return JsonValue.Create(value.ToBooleanValue());
            case FluidValues.Number:
                return JsonValue.Create(value.ToNumberValue());
            case FluidValues.String:
                return JsonValue.Create(value.ToStringValue());
            case FluidValues.DateTime:
                return JsonValue.Create(((DateTimeOffset)value.ToObjectValue()).ToString("o", CultureInfo.InvariantCulture));
            case FluidValues.Array:
                var items = new JsonArray();
                foreach (var item in value.Enumerate(context)) items.Add(ToJson(item, context));
                return items;
            case FluidValues.Dictionary when value.ToObjectValue() is JsonObjectIndexable wrapped:
                return wrapped.Node;
            case FluidValues.Dictionary when value.ToObjectValue() is IFluidIndexable indexable:
                var obj = new JsonObject();
                foreach (var key in indexable.Keys)
                    obj[key] = indexable.TryGetValue(key, out var member) ? ToJson(member, context) : null;
                return obj;
            default:
                return JsonSerializer.SerializeToNode(value.ToObjectValue());
        }
    }

    internal sealed class JsonObjectIndexable(JsonObject node) : IFluidIndexable
    {
        public JsonObject Node => node;

        public int Count => node.Count;

        public IEnumerable<string> Keys => node.Select(property => property.Key);

        public bool TryGetValue(string name, out FluidValue value)
        {
            if (node.TryGetPropertyValue(name, out var member))
            {
                value = ToFluid(member);
                return true;
            }
            value = NilValue.Instance;
            return false;
        }
    }
}
