using System.CommandLine;
using Enate.Cli.Client.Models;
using Spectre.Console;

namespace Enate.Cli.Commands;

/// Bulk re-runs: every finished run that matches a filter, run again as a job in the Workers.
public static class ReplayCommands
{
    public static Command Build(Terminal terminal)
    {
        var replays = new Command("replays", "Re-run every finished run that matches a filter, and follow the job.");
        replays.Subcommands.Add(Start(terminal));
        replays.Subcommands.Add(Watch(terminal));
        replays.Subcommands.Add(Cancel(terminal));
        return replays;
    }

    private static Command Start(Terminal terminal)
    {
        var recipe = new Option<string?>("--recipe") { Description = "Only this recipe's runs." };
        var status = new Option<string?>("--status") { Description = "Only runs that ended so (failed, deadLettered, …)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Requested at or after this time." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Requested before this time." };
        var version = new Option<string>("--version") { Description = "original (default), latest, or a version number.", DefaultValueFactory = _ => "original" };
        var reason = new Option<string>("--reason") { Description = "Why, for the audit record.", Required = true };
        var concurrency = new Option<int?>("--concurrency") { Description = "Runs in flight at once." };
        var detach = new Option<bool>("--detach") { Description = "Print the job's id and return without following it." };
        var command = new Command("start", "Start a bulk re-run and follow its progress.") { recipe, status, from, to, version, reason, concurrency, detach };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var body = new BulkReplayRequest
            {
                Filter = new ReplayFilter { Recipe = parsed.GetValue(recipe), Status = parsed.GetValue(status), From = parsed.GetValue(from), To = parsed.GetValue(to) },
                RecipeVersion = RunCommands.VersionNode(parsed.GetValue(version)!), Reason = parsed.GetValue(reason), Concurrency = parsed.GetValue(concurrency),
            };
            var accepted = await context.Platform.Client.Api.V1.Replays.PostAsync(body, cancellationToken: ct);
            var id = accepted!.ReplayId!.Value;
            if (parsed.GetValue(detach))
            {
                await terminal.Out.WriteLineAsync(id.ToString());
                return ExitCodes.Ok;
            }
            return await FollowAsync(context, id, ct);
        });
        return command;
    }

    private static Command Watch(Terminal terminal)
    {
        var id = new Argument<Guid>("id") { Description = "The bulk re-run's id." };
        var command = new Command("watch", "Follow a bulk re-run to its end with a progress bar.") { id };
        command.Does(terminal, (context, parsed, ct) => FollowAsync(context, parsed.GetValue(id), ct));
        return command;
    }

    private static Command Cancel(Terminal terminal)
    {
        var id = new Argument<Guid>("id") { Description = "The bulk re-run's id." };
        var command = new Command("cancel", "Stop starting re-runs; those already started finish on their own.") { id };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var view = await context.Platform.Client.Api.V1.Replays[parsed.GetValue(id)].Cancel.PostAsync(cancellationToken: ct);
            if (context.AsJson) await context.WriteJsonAsync(view!);
            else await terminal.Out.WriteLineAsync($"{view!.Id}: {view.Status}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// Done when the job stopped starting re-runs and those it started have finished.
    private static bool Done(BulkReplayView view) => view.Status != "running" && view.InFlight is null or 0;

    /// The job's progress until it is done: a bar for people, the final view for `--json`. Exits 3 when any re-run failed.
    private static async Task<int> FollowAsync(Context context, Guid id, CancellationToken ct)
    {
        var item = context.Platform.Client.Api.V1.Replays[id];
        BulkReplayView view;
        if (context.AsJson || !context.Terminal.Interactive)
        {
            while (!Done(view = (await item.GetAsync(cancellationToken: ct))!)) await Task.Delay(500, ct);
        }
        else
        {
            view = await context.Console.Progress().StartAsync(async progress =>
            {
                var bar = progress.AddTask($"replay {id}");
                while (true)
                {
                    var current = (await item.GetAsync(cancellationToken: ct))!;
                    bar.MaxValue = Math.Max(1, current.Total ?? 0);
                    bar.Value = (current.Succeeded ?? 0) + (current.Failed ?? 0) + (current.Skipped ?? 0) + (current.NotStarted ?? 0);
                    if (Done(current)) return current;
                    await Task.Delay(500, ct);
                }
            });
        }
        if (context.AsJson) await context.WriteJsonAsync(view);
        else
            await context.Terminal.Out.WriteLineAsync($"replay {id}: {view.Status}; {view.Total} runs, {view.Succeeded} succeeded, {view.Failed} failed, " +
                                                      $"{view.Skipped} skipped, {view.NotStarted} not started");
        return view.Failed > 0 || view.Status != "completed" ? ExitCodes.Differs : ExitCodes.Ok;
    }
}
