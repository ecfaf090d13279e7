using System.CommandLine;
using System.Net.Http;
using Enate.Cli.Client.Models;
using Enate.Cli.Commands;
using Microsoft.Kiota.Abstractions;

namespace Enate.Cli;

/// The `enate` command line.
public static class Cli
{
    public static async Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken ct = default)
    {
        var root = new RootCommand("The Enate Integration Platform from the command line: recipes as code, runs, replays, audit.");
        foreach (var option in Context.Options()) root.Options.Add(option);
        foreach (var command in new[]
                 {
                     LoginCommands.Login(terminal), LoginCommands.Logout(terminal), RecipeCommands.Build(terminal), RunCommands.Build(terminal),
                     InboundCommands.Build(terminal), ReplayCommands.Build(terminal), AuditCommands.Build(terminal),
                     HookCommands.Build(terminal), TenantCommands.Build(terminal), NotificationCommands.Build(terminal),
                 })
            root.Subcommands.Add(command);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parsed.Errors) await terminal.Error.WriteLineAsync(error.Message);
            await terminal.Error.WriteLineAsync("See 'enate --help'.");
            return ExitCodes.Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error }, ct);
    }

    /// A command's action with the user's profile and output, and every failure turned into a message and an exit code.
    public static void Does(this Command command, Terminal terminal, Func<Context, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parsed, ct) =>
        {
            using var context = new Context(terminal, parsed);
            try
            {
                return await action(context, parsed, ct);
            }
            catch (Failure failure)
            {
                await terminal.Error.WriteLineAsync($"enate: {failure.Message}");
                return failure.ExitCode;
            }
            catch (ProblemDetails problem)
            {
                await context.ProblemAsync(problem);
                return ExitCodes.Failed;
            }
            catch (ApiException e)
            {
                await terminal.Error.WriteLineAsync($"enate: the platform answered {e.ResponseStatusCode}.");
                return ExitCodes.Failed;
            }
            catch (HttpRequestException e)
            {
                await terminal.Error.WriteLineAsync($"enate: cannot reach {context.Target}: {e.Message}");
                return ExitCodes.Failed;
            }
            catch (IOException e)
            {
                await terminal.Error.WriteLineAsync($"enate: {e.Message}");
                return ExitCodes.Failed;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A fault of enate itself: the whole story, for the bug report.
                await terminal.Error.WriteLineAsync($"enate: unexpected failure: {e}");
                return ExitCodes.Failed;
            }
        });
}
