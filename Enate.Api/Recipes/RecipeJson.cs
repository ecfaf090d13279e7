using System.Text.Json;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using Enate.Domain.Recipes;

namespace Enate.Api.Recipes;

/// One way to read, write and hash recipe definitions.
public static class RecipeJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        // Set, not left to the first serialization: the schema is exported from these options, and a process whose
        // first request asks for the schema would otherwise fail there.
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public static readonly Lazy<string> Schema = new(() =>
    {
        var schema = JsonSchemaExporter.GetJsonSchemaAsNode(Options, typeof(RecipeDefinition), new JsonSchemaExporterOptions
        {
            TransformSchemaNode = (context, node) =>
            {
                var description = context.PropertyInfo?.AttributeProvider?
                    .GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), false)
                    .OfType<System.ComponentModel.DescriptionAttribute>().FirstOrDefault()?.Description;
                // JSON to produce: a template in a string, or JSON written out.
                if (context.TypeInfo.Type == typeof(JsonTemplate))
                    node = new System.Text.Json.Nodes.JsonObject { ["type"] = new System.Text.Json.Nodes.JsonArray("string", "object", "array") };
                if (description is not null && node is System.Text.Json.Nodes.JsonObject obj) obj.Insert(0, "description", description);
                return node;
            },
        });
        RecipeSchema.Refine(schema.AsObject());
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        schema["title"] = "Enate integration recipe";
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    });

    /// Reads a definition; a shape error comes back as a problem with its JSON path. A `$schema` member is for editors
    /// and is not part of the recipe (nor of its hash).
    public static (RecipeDefinition? Recipe, RecipeProblem? Problem) Read(JsonElement body)
    {
        try
        {
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("$schema", out _))
            {
                var without = System.Text.Json.Nodes.JsonObject.Create(body)!;
                without.Remove("$schema");
                body = JsonSerializer.SerializeToElement(without);
            }
            var recipe = body.Deserialize<RecipeDefinition>(Options);
            if (recipe is null) return (null, new RecipeProblem("$", "must be a JSON object."));
            if (recipe.Steps is null) return (null, new RecipeProblem("$.steps", "is required: a list of steps."));
            var missing = recipe.Steps.ToList().FindIndex(step => step is null);
            if (missing >= 0) return (null, new RecipeProblem($"$.steps[{missing}]", "must be a step (an object), not null."));
            return (InOneOrder(recipe), null);
        }
        catch (JsonException ex)
        {
            return (null, new RecipeProblem(ex.Path ?? "$", ex.Message.Split(" Path:")[0]));
        }
    }

    /// Members whose order means nothing — a step's headers and Enate arguments — in one order (ordinal), so a recipe
    /// hashes the same however they were written. The store keeps such objects as jsonb, which orders members its own
    /// way: without this, a recipe read back from the platform and saved again would look like a new version. Bodies
    /// and templates keep the order written; it is the order they are sent in.
    private static RecipeDefinition InOneOrder(RecipeDefinition recipe) => recipe with
    {
        Steps = recipe.Steps.Select(step => step with
        {
            Headers = step.Headers is null ? null : new SortedDictionary<string, string>(step.Headers.ToDictionary(), StringComparer.Ordinal),
            Args = step.Args is null ? null : (System.Text.Json.Nodes.JsonObject)Sorted(step.Args)!,
        }).ToList(),
    };

    private static System.Text.Json.Nodes.JsonNode? Sorted(System.Text.Json.Nodes.JsonNode? node) => node switch
    {
        System.Text.Json.Nodes.JsonObject o => new System.Text.Json.Nodes.JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value)))),
        System.Text.Json.Nodes.JsonArray a => new System.Text.Json.Nodes.JsonArray(a.Select(Sorted).ToArray()),
        _ => node?.DeepClone(),
    };

    public static string Canonical(RecipeDefinition recipe) => JsonSerializer.Serialize(recipe, Options);
}
