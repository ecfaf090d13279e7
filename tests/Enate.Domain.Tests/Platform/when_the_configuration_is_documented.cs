using System.Reflection;
using System.Text.RegularExpressions;
using Enate.Domain.Engine;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Platform;

/// docs/configuration.md is the reference of every setting: a setting the code reads and the page does not name
/// fails here, so a new one cannot ship undocumented.
public sealed partial class when_the_configuration_is_documented
{
    private static readonly string Root = FindRoot();
    private static readonly string[] Projects = ["Enate.Api", "Enate.Workers", "Enate.Domain", "Enate.ServiceDefaults", "Enate.AppHost", "Enate.Console"];

    // A whole key written out: `GetValue("Enate:Workers:Parallelism", …)`, `configuration["Enate:PublicUrl"]`.
    [GeneratedRegex("\"((?:Enate|Runs|Ports|Workers|Postgres)(?::[A-Za-z0-9]+)+)\"")]
    private static partial Regex WholeKey();

    // A section read by name, then keys within it: `var section = …GetSection("Enate:RateLimits"); section.GetValue("PerKeyPerSecond", …)`.
    [GeneratedRegex("var section = [^;]*GetSection\\(\"([^\"]+)\"\\)")]
    private static partial Regex SectionVariable();

    [GeneratedRegex("section(?:\\.GetValue(?:<[^>]+>)?\\(|\\[|\\.GetSection\\()\"([A-Za-z0-9]+)\"")]
    private static partial Regex KeyInSection();

    /// Every key the services read, as the code names them.
    public static SortedSet<string> KeysInCode()
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Projects.SelectMany(p => Directory.EnumerateFiles(Path.Combine(Root, p), "*.cs", SearchOption.AllDirectories))
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                                 !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")))
        {
            var text = File.ReadAllText(file);
            foreach (Match m in WholeKey().Matches(text)) keys.Add(m.Groups[1].Value);
            if (SectionVariable().Match(text) is { Success: true } section)
                foreach (Match m in KeyInSection().Matches(text)) keys.Add($"{section.Groups[1].Value}:{m.Groups[1].Value}");
        }
        // Sections bound to a type: each of its settable properties is a key.
        foreach (var property in Settable(typeof(Limits)).Where(p => p.PropertyType != typeof(TransformLimits)))
            keys.Add($"Enate:Limits:{property.Name}");
        foreach (var property in Settable(typeof(TransformLimits))) keys.Add($"Enate:Limits:Transforms:{property.Name}");
        return keys;
    }

    [Fact]
    public void every_setting_the_code_reads_is_in_the_reference()
    {
        var page = File.ReadAllText(Path.Combine(Root, "docs", "configuration.md"));
        var keys = KeysInCode();
        // The scan itself must find what it is meant to: keys written out, read from a section, and bound to a type.
        Assert.Contains("Enate:Workers:Parallelism", keys);
        Assert.Contains("Enate:RateLimits:PerKeyPerSecond", keys);
        Assert.Contains("Enate:Audit:SigningKeyFile", keys);
        Assert.Contains("Enate:Limits:Transforms:MaxRows", keys);

        var missing = keys.Where(k => !page.Contains($"`{k}`", StringComparison.Ordinal) && !IsSectionOfDocumentedKeys(k, page)).ToList();
        Assert.True(missing.Count == 0, "Not in docs/configuration.md: " + string.Join(", ", missing));
    }

    /// A section named as a whole (`Enate:Limits`, `Enate:Audit`) is documented by its keys.
    private static bool IsSectionOfDocumentedKeys(string key, string page) => page.Contains($"`{key}:", StringComparison.Ordinal);

    private static IEnumerable<PropertyInfo> Settable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true });

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Enate.Platform.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Enate.Platform.sln not found above the test folder.");
    }
}
