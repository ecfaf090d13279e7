using System.Text.RegularExpressions;

namespace Enate.Domain.Recipes;

/// The ids of other steps a step's templates and expressions mention (steps.<id>).
public static partial class StepReferences
{
    public static IEnumerable<string> In(StepDefinition step)
    {
        var texts = new List<string?> { step.Path, Text(step.Body?.Node), Text(step.Template?.Node), step.Select, step.Condition };
        texts.AddRange(step.Headers?.Values ?? []);
        if (step.Args is not null) texts.Add(step.Args.ToJsonString());
        return texts.Where(t => t is not null).SelectMany(t => Reference().Matches(t!).Select(m => m.Groups[1].Value)).Distinct();
    }

    private static string? Text(System.Text.Json.Nodes.JsonNode? node) =>
        node is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var text) ? text : node?.ToJsonString();

    [GeneratedRegex(@"\bsteps\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Reference();
}
