namespace Enate.Cli;

/// A recipe in a folder: its key is the file's name (`orders-to-crm.yaml` holds recipe `orders-to-crm`).
public sealed record RecipeFile(string Key, string Path, byte[] Content)
{
    public bool IsYaml => System.IO.Path.GetExtension(Path).ToLowerInvariant() is ".yaml" or ".yml";
    public string MediaType => IsYaml ? "application/yaml" : "application/json";

    private static readonly string[] Extensions = [".json", ".yaml", ".yml"];

    /// The recipe files named: a folder stands for the recipe files directly in it, ordered by key.
    public static IReadOnlyList<RecipeFile> Find(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path).Where(f => Extensions.Contains(System.IO.Path.GetExtension(f).ToLowerInvariant())));
            else if (File.Exists(path)) files.Add(path);
            else throw new Failure($"{path}: no such file or folder.", ExitCodes.Usage);
        }
        var recipes = files.Select(f => new RecipeFile(System.IO.Path.GetFileNameWithoutExtension(f), f, File.ReadAllBytes(f)))
            .OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (recipes.GroupBy(r => r.Key).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new Failure($"Recipe '{twice.Key}' has more than one file: {string.Join(", ", twice.Select(r => r.Path))}.", ExitCodes.Usage);
        return recipes;
    }
}
