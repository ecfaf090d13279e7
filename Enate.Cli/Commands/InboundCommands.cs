using System.CommandLine;
using Spectre.Console;

namespace Enate.Cli.Commands;

public static class InboundCommands
{
    public static Command Build(Terminal terminal)
    {
        var inbound = new Command("inbound", "Requests that reached a trigger: accepted, duplicate and refused, with the runs they started.");
        var limit = new Option<int?>("--limit") { Description = "How many (default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous one said." };
        var list = new Command("ls", "Inbound requests, newest first.") { limit, cursor };
        list.Does(terminal, async (context, parsed, ct) =>
        {
            var page = await context.Platform.Client.Api.V1.Inbound.GetAsync(r =>
            {
                r.QueryParameters.Limit = parsed.GetValue(limit);
                r.QueryParameters.Cursor = parsed.GetValue(cursor);
            }, ct);
            if (context.AsJson)
            {
                await context.WriteJsonAsync(page!);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("received", "trigger", "target", "status", "verdict", "reason", "runs");
            foreach (var request in page?.Items ?? [])
                table.AddRow(Context.Markup(request.ReceivedAt?.ToString("u")), Context.Markup(request.Trigger), Context.Markup(request.Target),
                    Context.Markup(request.Status), Context.Markup(request.Verdict), Context.Markup(RecipeCommands.Shorten(request.Reason ?? "", 50)),
                    Context.Markup(string.Join(" ", request.RunIds ?? [])));
            context.Console.Write(table);
            if (page?.NextCursor is { } next) context.Console.MarkupLine($"more: --cursor {Context.Markup(next)}");
            return ExitCodes.Ok;
        });
        inbound.Subcommands.Add(list);
        return inbound;
    }
}
