using System.CommandLine;
using System.Net;
using Enate.Cli.Client.Models;
using Spectre.Console;

namespace Enate.Cli.Commands;

public static class LoginCommands
{
    /// `enate login`: the key is asked for (hidden) or read from standard input, never taken as an argument, so it stays
    /// out of shell history; it is checked against the platform before it is saved.
    public static Command Login(Terminal terminal)
    {
        var command = new Command("login", "Save an API key for a platform address under a profile (asked for, or read from standard input).");
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var url = context.Url ?? "http://localhost:5080";
            string key;
            if (terminal.Interactive)
                key = context.Console.Prompt(new TextPrompt<string>("API key:").Secret());
            else
                key = (await terminal.In.ReadLineAsync(ct))?.Trim() ?? "";
            if (key.Length == 0) throw new Failure("no key given: type it when asked, or pipe it in (enate login --url <address> < key-file).", ExitCodes.Usage);

            using var platform = new Platform(new Profile(url, key), terminal.Handler);
            try
            {
                await platform.Client.Api.V1.Runs.GetAsync(r => r.QueryParameters.Limit = 1, ct);
            }
            catch (ProblemDetails problem) when (problem.ResponseStatusCode == (int)HttpStatusCode.Unauthorized)
            {
                throw new Failure($"{url} does not know this key; nothing was saved.");
            }
            catch (ProblemDetails problem) when (problem.ResponseStatusCode == (int)HttpStatusCode.Forbidden)
            {
                // A key that may not read runs (a trigger-only or operator key) is still a key.
            }
            new Profiles(terminal).Save(context.ProfileName, new Profile(url, key));
            await terminal.Error.WriteLineAsync($"Logged in to {url} as profile '{context.ProfileName}'.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Logout(Terminal terminal)
    {
        var command = new Command("logout", "Forget the profile's key.");
        command.Does(terminal, async (context, _, _) =>
        {
            var forgotten = new Profiles(terminal).Forget(context.ProfileName);
            await terminal.Error.WriteLineAsync(forgotten ? $"Profile '{context.ProfileName}' forgotten." : $"No profile '{context.ProfileName}'.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
