using System.Text.RegularExpressions;

namespace Enate.Domain.Recipes;

/// The ids of other steps a step's templates and expressions mention (steps.<id>).
public static partial class StepReferences
{
    public static IEnumerable<string> In(StepDefinition step)
    {
        var texts = new List<string?> { step.Path, step.Body, step.Template, step.Select, step.Condition };
        texts.AddRange(step.Headers?.Values ?? []);
        if (step.Args is not null) texts.Add(step.Args.ToJsonString());
        return texts.Where(t => t is not null).SelectMany(t => Reference().Matches(t!).Select(m => m.Groups[1].Value)).Distinct();
    }

    [GeneratedRegex(@"\bsteps\.([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Reference();
}
