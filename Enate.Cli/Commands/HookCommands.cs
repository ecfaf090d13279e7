using System.CommandLine;
using Enate.Cli.Client.Models;

namespace Enate.Cli.Commands;

/// A webhook recipe's partner-facing address and signing secret, and the secret's rotation.
public static class HookCommands
{
    public static Command Build(Terminal terminal)
    {
        var hooks = new Command("hooks", "The address and signing secret partners deliver a webhook recipe's events with.");
        var key = new Argument<string>("recipe") { Description = "A webhook recipe." };
        var show = new Command("show", "The hook's URL and its current signing secret.") { key };
        show.Does(terminal, async (context, parsed, ct) =>
        {
            await WriteAsync(context, (await context.Platform.Client.Api.V1.Recipes[parsed.GetValue(key)!].Webhook.GetAsync(cancellationToken: ct))!, "");
            return ExitCodes.Ok;
        });
        var rotated = new Argument<string>("recipe") { Description = "A webhook recipe." };
        var rotate = new Command("rotate", "A new signing secret; the previous one keeps verifying for 24 hours while the partner switches.") { rotated };
        rotate.Does(terminal, async (context, parsed, ct) =>
        {
            await WriteAsync(context, (await context.Platform.Client.Api.V1.Recipes[parsed.GetValue(rotated)!].Webhook.RotateSecret.PostAsync(cancellationToken: ct))!,
                "  (the previous secret verifies for 24 more hours)");
            return ExitCodes.Ok;
        });
        hooks.Subcommands.Add(show);
        hooks.Subcommands.Add(rotate);
        return hooks;
    }

    private static async Task WriteAsync(Context context, HookView hook, string note)
    {
        if (context.AsJson) await context.WriteJsonAsync(hook);
        else await context.Terminal.Out.WriteLineAsync($"url:    {hook.Url}\nsecret: {hook.Secret}{note}");
    }
}
