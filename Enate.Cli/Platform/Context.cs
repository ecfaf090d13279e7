using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Cli.Client.Models;
using Microsoft.Kiota.Abstractions.Serialization;
using Spectre.Console;

using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Enate.Cli;

/// What every command has: the profile it calls the platform with, and where and how it writes.
public sealed class Context(Terminal terminal, ParseResult parsed) : IDisposable
{
    /// The options every command takes, made for each command line parsed.
    public static Option[] Options() =>
    [
        new Option<string>("--profile", "-p")
        {
            Description = "The saved login to use (see 'enate login').", Recursive = true,
            DefaultValueFactory = _ => Profiles.Default,
        },
        new Option<bool>("--json") { Description = "Write JSON to standard output, for scripts and CI.", Recursive = true },
        new Option<string?>("--url")
        {
            Description = "The platform's address, instead of the profile's (for example http://localhost:5080).", Recursive = true,
        },
    ];

    public string? Url => parsed.GetValue<string?>("--url");

    private Platform? _platform;

    public Terminal Terminal => terminal;
    public bool AsJson => parsed.GetValue<bool>("--json");
    public string ProfileName => parsed.GetValue<string>("--profile") ?? Profiles.Default;
    public IAnsiConsole Console { get; } = terminal.Ansi();
    public string Target => _platform?.Url ?? Url ?? "the platform";

    /// The platform as the profile reaches it; no profile is a usage error that says how to log in.
    public Platform Platform
    {
        get
        {
            if (_platform is not null) return _platform;
            var profile = new Profiles(terminal).Find(ProfileName, Url)
                ?? throw new Failure($"not logged in{(ProfileName == Profiles.Default ? "" : $" as '{ProfileName}'")}: run 'enate login --url <address>" +
                                     $"{(ProfileName == Profiles.Default ? "" : $" --profile {ProfileName}")}', or set ENATE_API_KEY.", ExitCodes.Usage);
            return _platform = new Platform(profile, terminal.Handler);
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public Task WriteJsonAsync(JsonNode? node) => terminal.Out.WriteLineAsync(node?.ToJsonString(Indented) ?? "null");

    public async Task WriteJsonAsync<T>(T model) where T : IParsable =>
        await WriteJsonAsync(JsonNode.Parse(await Platform.JsonOfAsync(model)));

    public async Task WriteJsonAsync<T>(IEnumerable<T> models) where T : IParsable
    {
        var array = new JsonArray();
        foreach (var model in models) array.Add(JsonNode.Parse(await Platform.JsonOfAsync(model)));
        await WriteJsonAsync(array);
    }

    /// A problem the platform answered: its title, detail and each field it names, on standard error; with `--json`,
    /// the problem itself on standard output too.
    public async Task ProblemAsync(ProblemDetails problem)
    {
        var error = terminal.Error;
        await error.WriteLineAsync($"enate: {problem.Title} ({problem.Status}){(problem.Detail is { Length: > 0 } d ? $": {d}" : "")}");
        var json = JsonNode.Parse(await Platform.JsonOfAsync(problem));
        if (json?["errors"] is JsonArray errors)
            foreach (var field in errors)
                await error.WriteLineAsync($"  {field?["path"]}: {field?["message"]}");
        // The catalogue entry explains the problem and what to do; the API names it by path.
        if (problem.Type is { Length: > 0 } type) await error.WriteLineAsync($"  see {(type.StartsWith('/') ? _platform?.Url + type : type)}");
        if (AsJson) await WriteJsonAsync(json);
    }

    public static string Markup(object? value) => Spectre.Console.Markup.Escape(value?.ToString() ?? "");

    public void Dispose() => _platform?.Dispose();
}
