using System.Text.Json;
using Enate.Domain.Recipes;

namespace Enate.Domain.Replays;

/// Which recipe version a replay uses: the one the run pinned, the latest, or a given number.
public sealed record ReplayVersion(string Kind, int? Number)
{
    public const string Original = "original";
    public const string Latest = "latest";
    public const string Numbered = "number";
    public const string Rule = "must be \"original\", \"latest\" or a version number (1 or more).";

    /// How it was asked, as clients write it.
    public override string ToString() => Kind == Numbered ? Number!.Value.ToString() : Kind;

    public static ReplayVersion? Parse(JsonElement value) => value.ValueKind switch
    {
        // Half a surrogate pair escaped is no text: no version's name.
        JsonValueKind.String => Platform.JsonText.HasUnpairedSurrogate(value) ? null : Parse(value.GetString()),
        JsonValueKind.Number when value.TryGetInt32(out var n) && n >= 1 => new ReplayVersion(Numbered, n),
        _ => null,
    };

    public static ReplayVersion? Parse(string? text) => text switch
    {
        Original => new ReplayVersion(Original, null),
        Latest => new ReplayVersion(Latest, null),
        _ when int.TryParse(text, System.Globalization.NumberStyles.None, null, out var n) && n >= 1 => new ReplayVersion(Numbered, n),
        _ => null,
    };

    /// The version number for a run of this recipe, or null when the recipe has no such version.
    public int? Resolve(int originalVersion, Recipe recipe) => Kind switch
    {
        Original => originalVersion,
        Latest => recipe.LatestVersion,
        _ => Number <= recipe.LatestVersion ? Number : null,
    };
}
