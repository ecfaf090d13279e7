using System.Text.RegularExpressions;

namespace Enate.Api.Platform;

/// Keys of recipes and names of connections: safe in URLs, logs and document ids.
public static partial class Names
{
    public const string Rule = "must be 1 to 64 characters of letters, digits, '-', '_' or '.', starting with a letter or digit.";

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();
}
