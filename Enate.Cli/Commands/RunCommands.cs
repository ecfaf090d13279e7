using System.CommandLine;
using System.Text.Json.Nodes;
using Enate.Cli.Client.Models;
using Microsoft.Kiota.Abstractions.Serialization;
using Spectre.Console;

using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Enate.Cli.Commands;

public static class RunCommands
{
    public static Command Build(Terminal terminal)
    {
        var runs = new Command("runs", "List, show, start, follow and re-run runs.");
        runs.Subcommands.Add(List(terminal));
        runs.Subcommands.Add(Show(terminal));
        runs.Subcommands.Add(Start(terminal));
        runs.Subcommands.Add(Tail(terminal));
        runs.Subcommands.Add(Rerun(terminal));
        return runs;
    }

    private static readonly string[] Finished = ["succeeded", "skipped", "failed", "deadLettered"];

    private static Argument<Guid> RunId() => new("id") { Description = "The run's id." };

    private static Command List(Terminal terminal)
    {
        var recipe = new Option<string?>("--recipe") { Description = "Only this recipe's runs." };
        var status = new Option<string?>("--status") { Description = "requested, running, waiting, succeeded, skipped, failed or deadLettered." };
        var workItem = new Option<string?>("--work-item") { Description = "Only runs of this Enate work item (its reference)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Requested at or after this time." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Requested before this time." };
        var limit = new Option<int?>("--limit") { Description = "How many (default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous one said." };
        var command = new Command("ls", "Runs, newest first.") { recipe, status, workItem, from, to, limit, cursor };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var page = await context.Platform.Client.Api.V1.Runs.GetAsync(r =>
            {
                r.QueryParameters.Recipe = parsed.GetValue(recipe);
                r.QueryParameters.Status = parsed.GetValue(status);
                r.QueryParameters.WorkItem = parsed.GetValue(workItem);
                r.QueryParameters.From = parsed.GetValue(from);
                r.QueryParameters.To = parsed.GetValue(to);
                r.QueryParameters.Limit = parsed.GetValue(limit);
                r.QueryParameters.Cursor = parsed.GetValue(cursor);
            }, ct);
            if (context.AsJson)
            {
                await context.WriteJsonAsync(page!);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("id", "recipe", "status", "requested", "finished", "reason");
            foreach (var run in page?.Items ?? [])
                table.AddRow(Context.Markup(run.Id), Context.Markup($"{run.RecipeKey} v{run.RecipeVersion}"), Status(run.Status),
                    Context.Markup(run.RequestedAt?.ToString("u")), Context.Markup(run.FinishedAt?.ToString("u")), Context.Markup(RecipeCommands.Shorten(run.Reason ?? "", 60)));
            context.Console.Write(table);
            if (page?.NextCursor is { } next) context.Console.MarkupLine($"more: --cursor {Context.Markup(next)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Status(string? status) => status switch
    {
        "succeeded" => "[green]succeeded[/]",
        "failed" or "deadLettered" => $"[red]{status}[/]",
        _ => Context.Markup(status),
    };

    private static Command Show(Terminal terminal)
    {
        var id = RunId();
        var events = new Option<bool>("--events") { Description = "With every event the run recorded (needs audit:read)." };
        var command = new Command("show", "One run as it stands now.") { id, events };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var run = await context.Platform.JsonAsync(context.Platform.Client.Api.V1.Runs[parsed.GetValue(id)].ToGetRequestInformation(), ct);
            var recorded = parsed.GetValue(events) ? await EventsAsync(context, parsed.GetValue(id), null, ct) : null;
            if (context.AsJson)
            {
                if (recorded is not null) run!["events"] = new JsonArray(recorded.Select(e => e.DeepClone()).ToArray());
                await context.WriteJsonAsync(run);
                return ExitCodes.Ok;
            }
            var grid = new Grid().AddColumns(2);
            foreach (var name in new[] { "id", "recipeKey", "recipeVersion", "trigger", "status", "workItem", "currentStep", "attempts", "reason", "requestedAt", "finishedAt", "replayOf" })
                if (run?[name] is { } value) grid.AddRow(name, Context.Markup(value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value.ToJsonString()));
            context.Console.Write(grid);
            if (run?["output"] is { } output) context.Console.WriteLine("output: " + output.ToJsonString());
            foreach (var e in recorded ?? []) WriteEvent(context.Console, e);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// The run's events after a version (all of them with null), every page.
    private static async Task<List<JsonNode>> EventsAsync(Context context, Guid run, long? after, CancellationToken ct)
    {
        var events = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var request = context.Platform.Client.Api.V1.Runs[run].Events.ToGetRequestInformation(r =>
            {
                r.QueryParameters.Limit = 200;
                r.QueryParameters.Cursor = cursor;
            });
            var page = await context.Platform.JsonAsync(request, ct);
            events.AddRange((page?["items"]?.AsArray() ?? []).OfType<JsonNode>().Where(e => after is null || e["version"]?.GetValue<long>() > after));
            cursor = page?["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return events;
    }

    private static void WriteEvent(IAnsiConsole console, JsonNode e)
    {
        var data = e["data"];
        // Marten names an event type by its class in snake case (outbound_request_sent).
        var detail = e["type"]?.GetValue<string>().Replace("_", "").ToLowerInvariant() switch
        {
            "outboundrequestsent" => $"{data?["method"]} {data?["url"]}",
            "outboundresponsereceived" => $"{data?["status"]} in {data?["durationMs"]} ms",
            "outboundcallfailed" or "runfailed" or "rundeadlettered" or "retryscheduled" or "enatecallbackfailed" => $"{data?["reason"]}",
            "stepstarted" or "stepcompleted" => $"{data?["stepId"]}",
            "enatecallbacksent" => $"{data?["outcome"]}: {data?["status"]}",
            _ => "",
        };
        console.MarkupLine($"[grey]{Context.Markup(e["version"])}[/] {Context.Markup(e["timestamp"]?.GetValue<DateTimeOffset>().ToString("HH:mm:ss.fff"))} " +
                           $"[bold]{Context.Markup(e["type"])}[/] {Context.Markup(RecipeCommands.Shorten(detail, 100))}");
    }

    private static Command Start(Terminal terminal)
    {
        var key = new Argument<string>("recipe") { Description = "The recipe to run." };
        var input = Input.Option();
        var idempotency = new Option<string?>("--idempotency-key") { Description = "Starts one run however often the command is repeated with it." };
        var follow = new Option<bool>("--tail") { Description = "Follow the run to its end (exit 3 when it fails)." };
        var command = new Command("start", "Start a run of a recipe's latest version with an input.") { key, input, idempotency, follow };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var body = await Input.ReadAsync(context, parsed.GetValue(input), ct);
            var accepted = await context.Platform.Client.Api.V1.Recipes[parsed.GetValue(key)!].Runs.PostAsync(body, r =>
            {
                if (parsed.GetValue(idempotency) is { Length: > 0 } k) r.Headers.Add("Idempotency-Key", k);
            }, ct);
            return await AcceptedAsync(context, accepted!.RunId!.Value, parsed.GetValue(follow), ct);
        });
        return command;
    }

    private static async Task<int> AcceptedAsync(Context context, Guid run, bool follow, CancellationToken ct)
    {
        if (!follow)
        {
            if (context.AsJson) await context.WriteJsonAsync(new JsonObject { ["runId"] = run });
            else await context.Terminal.Out.WriteLineAsync(run.ToString());
            return ExitCodes.Ok;
        }
        return await FollowAsync(context, run, TimeSpan.FromMinutes(10), ct);
    }

    private static Command Tail(Terminal terminal)
    {
        var id = RunId();
        var timeout = new Option<int>("--timeout") { Description = "Seconds to follow before giving up (default 600).", DefaultValueFactory = _ => 600 };
        var command = new Command("tail", "Follow a run's events as they are recorded until it ends; exits 3 when it fails.") { id, timeout };
        command.Does(terminal, (context, parsed, ct) => FollowAsync(context, parsed.GetValue(id), TimeSpan.FromSeconds(parsed.GetValue(timeout)), ct));
        return command;
    }

    /// Events printed as they are recorded, until the run is finished; the run's summary at the end.
    private static async Task<int> FollowAsync(Context context, Guid run, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        long? seen = null;
        var all = new JsonArray();
        try
        {
            while (true)
            {
                // The status first: a run finished before its last events were read still prints them all.
                var summary = await context.Platform.JsonAsync(context.Platform.Client.Api.V1.Runs[run].ToGetRequestInformation(), limit.Token);
                var status = summary?["status"]?.GetValue<string>();
                foreach (var e in await EventsAsync(context, run, seen, limit.Token))
                {
                    seen = e["version"]?.GetValue<long>();
                    if (context.AsJson) all.Add(e.DeepClone());
                    else WriteEvent(context.Console, e);
                }
                if (Finished.Contains(status))
                {
                    if (context.AsJson)
                    {
                        summary!["events"] = all;
                        await context.WriteJsonAsync(summary);
                    }
                    else context.Console.MarkupLine($"run {run}: {Status(status)}{(summary?["reason"] is { } reason ? $" ({Context.Markup(reason)})" : "")}");
                    return status is "succeeded" or "skipped" ? ExitCodes.Ok : ExitCodes.Differs;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(300), limit.Token);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new Failure($"run {run} did not finish within {timeout.TotalSeconds:0} s.");
        }
    }

    private static Command Rerun(Terminal terminal)
    {
        var id = RunId();
        var version = new Option<string>("--version") { Description = "original (default), latest, or a version number.", DefaultValueFactory = _ => "original" };
        var reason = new Option<string>("--reason") { Description = "Why, for the audit record.", Required = true };
        var follow = new Option<bool>("--tail") { Description = "Follow the new run to its end." };
        var command = new Command("rerun", "Run a finished run again from its recorded input, as a new run linked to it.") { id, version, reason, follow };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var body = new ReplayRunRequest { RecipeVersion = VersionNode(parsed.GetValue(version)!), Reason = parsed.GetValue(reason) };
            var accepted = await context.Platform.Client.Api.V1.Runs[parsed.GetValue(id)].Replay.PostAsync(body, cancellationToken: ct);
            return await AcceptedAsync(context, accepted!.RunId!.Value, parsed.GetValue(follow), ct);
        });
        return command;
    }

    /// `original`, `latest` or a number, as the replay routes take it.
    public static UntypedNode VersionNode(string version) => int.TryParse(version, out var number)
        ? new UntypedInteger(number)
        : version is "original" or "latest" ? new UntypedString(version) : throw new Failure($"--version: '{version}' is not original, latest or a number.", ExitCodes.Usage);
}
