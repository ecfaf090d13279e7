using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Cli.Client.Models;
using Spectre.Console;

using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Enate.Cli.Commands;

/// Recipes as code: a folder of recipe files (JSON or YAML, one recipe a file, named by key) kept in git and brought to
/// the platform by CI. Everything here is safe to run again: a push of unchanged files makes no version.
public static class RecipeCommands
{
    private static Argument<string[]> Paths() => new("paths")
    {
        Description = "Recipe files, or folders of them (default: the current folder).", Arity = ArgumentArity.ZeroOrMore,
        DefaultValueFactory = _ => ["."],
    };

    public static Command Build(Terminal terminal)
    {
        var recipes = new Command("recipes", "Pull, push, compare, validate and dry-run recipe files.");
        recipes.Subcommands.Add(Validate(terminal));
        recipes.Subcommands.Add(Diff(terminal));
        recipes.Subcommands.Add(Push(terminal));
        recipes.Subcommands.Add(Pull(terminal));
        recipes.Subcommands.Add(DryRun(terminal));
        return recipes;
    }

    private sealed record Checked(RecipeFile File, RecipeChecked? Result, ProblemDetails? Problem);

    /// Each file checked by the platform exactly as a save would check it; nothing is saved.
    private static async Task<List<Checked>> CheckAsync(Context context, IEnumerable<RecipeFile> files, CancellationToken ct)
    {
        var results = new List<Checked>();
        foreach (var file in files)
        {
            var request = Platform.WithRecipe(context.Platform.Client.Api.V1.Recipes[file.Key].Validate.ToPostRequestInformation(new RecipeDefinition()), file);
            try
            {
                results.Add(new Checked(file, await context.Platform.Adapter.SendAsync(request, RecipeChecked.CreateFromDiscriminatorValue, Platform.Problems, ct), null));
            }
            catch (ProblemDetails problem) when (problem.ResponseStatusCode is 400 or 422)
            {
                results.Add(new Checked(file, null, problem));
            }
        }
        return results;
    }

    private static async Task<bool> ReportInvalidAsync(Context context, List<Checked> results)
    {
        foreach (var invalid in results.Where(r => r.Problem is not null))
        {
            await context.Terminal.Error.WriteLineAsync($"{invalid.File.Path}:");
            await context.ProblemAsync(invalid.Problem!);
        }
        return results.Any(r => r.Problem is not null);
    }

    private static Command Validate(Terminal terminal)
    {
        var paths = Paths();
        var command = new Command("validate", "Check recipe files as the platform would on save (schema, rules, connections); saves nothing.") { paths };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var results = await CheckAsync(context, RecipeFile.Find(parsed.GetValue(paths)!), ct);
            if (context.AsJson)
            {
                var array = new JsonArray();
                foreach (var r in results)
                    array.Add(new JsonObject
                    {
                        ["key"] = r.File.Key, ["file"] = r.File.Path, ["valid"] = r.Problem is null,
                        ["problem"] = r.Problem is null ? null : JsonNode.Parse(await Platform.JsonOfAsync(r.Problem)),
                        ["notes"] = r.Result is null ? null : JsonNode.Parse(JsonSerializer.Serialize(r.Result.Notes?.Select(n => new { n.Path, n.Message }))),
                    });
                await context.WriteJsonAsync(array);
                return results.Any(r => r.Problem is not null) ? ExitCodes.Failed : ExitCodes.Ok;
            }
            foreach (var ok in results.Where(r => r.Result is not null))
            {
                context.Console.MarkupLine($"[green]valid[/]   {Context.Markup(ok.File.Path)}");
                foreach (var note in ok.Result!.Notes ?? []) context.Console.MarkupLine($"        note {Context.Markup(note.Path)}: {Context.Markup(note.Message)}");
            }
            return await ReportInvalidAsync(context, results) ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    /// The latest saved definition of a recipe, or null when the platform has none by that key.
    private static async Task<JsonNode?> LatestAsync(Context context, string key, int? version, CancellationToken ct)
    {
        if (version is not { } v) return null;
        var answer = await context.Platform.JsonAsync(context.Platform.Client.Api.V1.Recipes[key].Versions[v].ToGetRequestInformation(), ct);
        return answer?["definition"];
    }

    private static async Task<JsonNode?> DefinitionOfAsync(RecipeChecked result) =>
        JsonNode.Parse(await Platform.JsonOfAsync(result))?["definition"];

    private static Command Diff(Terminal terminal)
    {
        var paths = Paths();
        var command = new Command("diff", "Compare recipe files with the platform's latest versions; exits 3 when any differs.") { paths };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var results = await CheckAsync(context, RecipeFile.Find(parsed.GetValue(paths)!), ct);
            if (await ReportInvalidAsync(context, results)) return ExitCodes.Failed;
            var report = new JsonArray();
            var differs = false;
            foreach (var (file, result, _) in results)
            {
                var changes = result!.Changed == true
                    ? JsonDiff.Between(JsonDiff.WithoutNulls(await LatestAsync(context, file.Key, result.LatestVersion, ct)), JsonDiff.WithoutNulls(await DefinitionOfAsync(result)))
                    : [];
                var state = result.LatestVersion is null ? "new" : result.Changed == true ? "differs" : "same";
                differs |= state != "same";
                report.Add(new JsonObject
                {
                    ["key"] = file.Key, ["file"] = file.Path, ["state"] = state, ["latestVersion"] = result.LatestVersion,
                    ["changes"] = new JsonArray(changes.Select(c => (JsonNode)c.ToJson()).ToArray()),
                });
                if (!context.AsJson) Show(context.Console, file, state, result.LatestVersion, changes);
            }
            if (context.AsJson) await context.WriteJsonAsync(report);
            return differs ? ExitCodes.Differs : ExitCodes.Ok;
        });
        return command;
    }

    private static void Show(IAnsiConsole console, RecipeFile file, string state, int? version, IReadOnlyList<Change> changes)
    {
        var colour = state switch { "same" => "grey", "new" => "green", _ => "yellow" };
        console.MarkupLine($"[{colour}]{state,-8}[/]{Context.Markup(file.Key)}{(version is null ? "" : $" (platform: v{version})")}");
        foreach (var change in changes)
            console.MarkupLine($"          {(change.Kind == "added" ? "[green]+[/]" : change.Kind == "removed" ? "[red]-[/]" : "[yellow]~[/]")} " +
                               $"{Context.Markup(change.Path)}: {Context.Markup(change.Before?.ToJsonString() ?? "")}{(change.Kind == "changed" ? " → " : "")}" +
                               $"{Context.Markup(change.After?.ToJsonString() ?? "")}");
    }

    private static Command Push(Terminal terminal)
    {
        var paths = Paths();
        var command = new Command("push",
            "Save recipe files as new versions where they changed: all are validated first, and nothing is saved if any is invalid.") { paths };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var results = await CheckAsync(context, RecipeFile.Find(parsed.GetValue(paths)!), ct);
            if (await ReportInvalidAsync(context, results)) return ExitCodes.Failed;
            var report = new JsonArray();
            foreach (var (file, result, _) in results)
            {
                var before = result!.LatestVersion;
                var request = Platform.WithRecipe(context.Platform.Client.Api.V1.Recipes[file.Key].ToPutRequestInformation(new RecipeDefinition()), file);
                var saved = await context.Platform.JsonAsync(request, ct);
                var version = saved?["version"]?.GetValue<int>() ?? throw new Failure($"{file.Path}: the platform's answer names no version.");
                var state = before is null ? "new" : version == before ? "same" : "saved";
                var changes = state == "saved"
                    ? JsonDiff.Between(JsonDiff.WithoutNulls(await LatestAsync(context, file.Key, before, ct)),
                        JsonDiff.WithoutNulls(await LatestAsync(context, file.Key, version, ct)))
                    : [];
                report.Add(new JsonObject
                {
                    ["key"] = file.Key, ["file"] = file.Path, ["state"] = state, ["version"] = version, ["previousVersion"] = before,
                    ["changes"] = new JsonArray(changes.Select(c => (JsonNode)c.ToJson()).ToArray()),
                });
                if (!context.AsJson) Show(context.Console, file, state == "saved" ? $"v{before}→v{version}" : state == "new" ? $"new v{version}" : "same", null, changes);
            }
            if (context.AsJson) await context.WriteJsonAsync(report);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Pull(Terminal terminal)
    {
        var folder = new Option<string>("--dir") { Description = "The folder to write recipe files into.", DefaultValueFactory = _ => "." };
        var keys = new Argument<string[]>("keys") { Description = "Recipes to pull (default: all of them).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("pull", "Write the platform's latest recipes into a folder as <key>.json; YAML files there are left as they are.") { folder, keys };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var dir = parsed.GetValue(folder)!;
            var wanted = parsed.GetValue(keys) is { Length: > 0 } given ? given.ToList() : await AllKeysAsync(context, ct);
            Directory.CreateDirectory(dir);
            var report = new JsonArray();
            foreach (var key in wanted)
            {
                var recipe = await context.Platform.JsonAsync(context.Platform.Client.Api.V1.Recipes[key].ToGetRequestInformation(), ct);
                var definition = JsonDiff.WithoutNulls(recipe?["definition"])!.AsObject();
                var path = Path.Combine(dir, key + ".json");
                string state;
                if (new[] { ".yaml", ".yml" }.Any(e => File.Exists(Path.Combine(dir, key + e)))) state = "kept-yaml";
                else
                {
                    // A file's own $schema is kept; a new one points at the schema the platform serves.
                    var existing = File.Exists(path) ? JsonNode.Parse(await File.ReadAllTextAsync(path, ct)) : null;
                    var schema = existing?["$schema"]?.GetValue<string>() ?? $"{context.Platform.Url}/api/v1/recipes/schema";
                    var written = new JsonObject { ["$schema"] = schema };
                    foreach (var (name, value) in definition) written[name] = value?.DeepClone();
                    var text = written.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
                    state = File.Exists(path) && await File.ReadAllTextAsync(path, ct) == text ? "same" : "written";
                    if (state == "written") await File.WriteAllTextAsync(path, text, ct);
                }
                report.Add(new JsonObject { ["key"] = key, ["file"] = path, ["version"] = recipe?["latestVersion"]?.DeepClone(), ["state"] = state });
                if (!context.AsJson) context.Console.MarkupLine($"{state,-10}{Context.Markup(path)} (v{recipe?["latestVersion"]})");
            }
            if (context.AsJson) await context.WriteJsonAsync(report);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<List<string>> AllKeysAsync(Context context, CancellationToken ct)
    {
        var keys = new List<string>();
        string? cursor = null;
        do
        {
            var page = await context.Platform.Client.Api.V1.Recipes.GetAsync(r => { r.QueryParameters.Limit = 100; r.QueryParameters.Cursor = cursor; }, ct);
            keys.AddRange(page?.Items?.Select(r => r.Key!) ?? []);
            cursor = page?.NextCursor;
        } while (cursor is not null);
        return keys;
    }

    private static Command DryRun(Terminal terminal)
    {
        var key = new Argument<string>("key") { Description = "The recipe to dry-run." };
        var input = Input.Option();
        var version = new Option<int?>("--version") { Description = "A saved version (default: the latest)." };
        var command = new Command("dry-run", "Run a saved recipe over an input without sending anything: each step's output and the requests it would send.")
            { key, input, version };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var body = new DryRunRequest { Input = await Input.ReadAsync(context, parsed.GetValue(input), ct), Version = parsed.GetValue(version) };
            var request = context.Platform.Client.Api.V1.Recipes[parsed.GetValue(key)!].DryRun.ToPostRequestInformation(body);
            var result = await context.Platform.JsonAsync(request, ct);
            var succeeded = result?["outcome"]?.GetValue<string>() == "succeeded";
            if (context.AsJson)
            {
                await context.WriteJsonAsync(result);
                return succeeded ? ExitCodes.Ok : ExitCodes.Differs;
            }
            context.Console.MarkupLine($"{Context.Markup(result?["key"])} v{result?["version"]}: [bold]{Context.Markup(result?["outcome"])}[/]");
            var table = new Table().AddColumns("step", "type", "outcome", "request / output");
            foreach (var step in result?["steps"]?.AsArray() ?? [])
            {
                var shown = step?["request"] is JsonObject r ? $"{r["method"]} {r["url"]}" : step?["error"]?.ToString() ?? step?["output"]?.ToJsonString() ?? "";
                table.AddRow(Context.Markup(step?["id"]), Context.Markup(step?["type"]), Context.Markup(step?["outcome"]), Context.Markup(Shorten(shown, 120)));
            }
            context.Console.Write(table);
            return succeeded ? ExitCodes.Ok : ExitCodes.Differs;
        });
        return command;
    }

    public static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
