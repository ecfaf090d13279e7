using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Recipes;

/// The Enate work item a trigger concerns, found by the recipe's workItem expression or Enate's own shapes.
public static class WorkItems
{
    public static string? Extract(RecipeDefinition recipe, JsonElement input)
    {
        var node = Platform.JsonText.Node(input);
        var expression = recipe.WorkItem ?? recipe.Trigger.Type switch
        {
            "enateAction" => "Action[0].Reference || Action[0].GUID",
            "enateWebhook" => "Reference || PacketGUID || GUID",
            _ => null,
        };
        if (expression is null) return null;
        try
        {
            return Expressions.Evaluate(expression, node) is JsonValue value && value.GetValueKind() != JsonValueKind.Null
                ? value.ToString()
                : null;
        }
        catch (TransformException)
        {
            // The input does not have the expected shape; the run still starts.
            return null;
        }
    }
}
