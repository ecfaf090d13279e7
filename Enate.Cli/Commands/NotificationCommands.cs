using System.CommandLine;
using Enate.Cli.Client.Models;
using Spectre.Console;

namespace Enate.Cli.Commands;

/// The tenant's notification endpoints and what was delivered to them (docs/notifications.md).
public static class NotificationCommands
{
    public static Command Build(Terminal terminal)
    {
        var notifications = new Command("notifications", "Endpoints told when runs fail, and the deliveries made to them.");

        var url = new Argument<string>("url") { Description = "Where to send: an http or https URL of yours." };
        var types = new Option<string[]>("--type")
        {
            Description = "An event type to send (repeat it): run.failed, run.deadLettered, rerun.completed, audit.mismatch, endpoint.disabled, queue.stalled.",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var description = new Option<string?>("--description") { Description = "What the endpoint is for." };
        var add = new Command("add", "Register an endpoint; its signing secret is shown once.") { url, types, description };
        add.Does(terminal, async (context, parsed, ct) =>
        {
            var created = await context.Platform.Client.Api.V1.Notifications.Endpoints.PostAsync(new EndpointRequest
            {
                Url = parsed.GetValue(url), Types = [.. parsed.GetValue(types) ?? []], Description = parsed.GetValue(description),
            }, cancellationToken: ct);
            if (context.AsJson) await context.WriteJsonAsync(created!);
            else
            {
                await terminal.Out.WriteLineAsync($"endpoint {created!.Endpoint?.Id} registered for {string.Join(", ", created.Endpoint?.Types ?? [])}.");
                await terminal.Out.WriteLineAsync($"signing secret (shown once, store it now): {created.Secret}");
            }
            return ExitCodes.Ok;
        });

        var list = new Command("ls", "The tenant's endpoints.");
        list.Does(terminal, async (context, _, ct) =>
        {
            var all = new List<EndpointView>();
            string? cursor = null;
            do
            {
                var page = await context.Platform.Client.Api.V1.Notifications.Endpoints.GetAsync(r => { r.QueryParameters.Limit = 100; r.QueryParameters.Cursor = cursor; }, ct);
                all.AddRange(page?.Items ?? []);
                cursor = page?.NextCursor;
            } while (cursor is not null);
            if (context.AsJson) await context.WriteJsonAsync(all);
            else
            {
                var table = new Table().AddColumns("id", "url", "types", "failing since", "disabled");
                foreach (var e in all)
                    table.AddRow(Context.Markup(e.Id?.ToString()), Context.Markup(e.Url), Context.Markup(string.Join(" ", e.Types ?? [])),
                        Context.Markup(e.FailingSince?.ToString("u")), Context.Markup(e.DisabledAt is null ? "" : $"{e.DisabledAt:u}: {e.DisabledReason}"));
                context.Console.Write(table);
            }
            return ExitCodes.Ok;
        });

        var id = new Argument<Guid>("id") { Description = "The endpoint's id." };
        var remove = new Command("rm", "Remove an endpoint (its deliveries' records stay).") { id };
        remove.Does(terminal, async (context, parsed, ct) =>
        {
            await context.Platform.Client.Api.V1.Notifications.Endpoints[parsed.GetValue(id)].DeleteAsync(cancellationToken: ct);
            if (!context.AsJson) await terminal.Out.WriteLineAsync($"endpoint {parsed.GetValue(id)} removed.");
            else await context.WriteJsonAsync(new System.Text.Json.Nodes.JsonObject { ["removed"] = parsed.GetValue(id).ToString() });
            return ExitCodes.Ok;
        });
        var enable = new Command("enable", "Enable an endpoint the platform disabled after its failures.") { id };
        enable.Does(terminal, async (context, parsed, ct) =>
        {
            var endpoint = await context.Platform.Client.Api.V1.Notifications.Endpoints[parsed.GetValue(id)].Enable.PostAsync(cancellationToken: ct);
            if (context.AsJson) await context.WriteJsonAsync(endpoint!);
            else await terminal.Out.WriteLineAsync($"endpoint {endpoint!.Id} enabled.");
            return ExitCodes.Ok;
        });

        var endpointFilter = new Option<Guid?>("--endpoint") { Description = "Only deliveries to this endpoint." };
        var status = new Option<string?>("--status") { Description = "pending, delivered or failed." };
        var limit = new Option<int?>("--limit") { Description = "How many (default 50)." };
        var cursor = new Option<string?>("--cursor") { Description = "The next page, as the previous one said." };
        var deliveries = new Command("deliveries", "Deliveries, newest first, with their attempts.") { endpointFilter, status, limit, cursor };
        deliveries.Does(terminal, async (context, parsed, ct) =>
        {
            var page = await context.Platform.Client.Api.V1.Notifications.Deliveries.GetAsync(r =>
            {
                r.QueryParameters.Endpoint = parsed.GetValue(endpointFilter);
                r.QueryParameters.Status = parsed.GetValue(status);
                r.QueryParameters.Limit = parsed.GetValue(limit);
                r.QueryParameters.Cursor = parsed.GetValue(cursor);
            }, ct);
            if (context.AsJson)
            {
                await context.WriteJsonAsync(page!);
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("id", "queued", "type", "status", "attempts", "last answer", "endpoint");
            foreach (var d in page?.Items ?? [])
            {
                var last = d.Attempts?.LastOrDefault();
                table.AddRow(Context.Markup(d.Id?.ToString()), Context.Markup(d.QueuedAt?.ToString("u")), Context.Markup(d.Type), Context.Markup(d.Status),
                    Context.Markup((d.Attempts?.Count ?? 0).ToString()), Context.Markup(last is null ? "" : last.Error ?? $"HTTP {last.Status}"), Context.Markup(d.EndpointId?.ToString()));
            }
            context.Console.Write(table);
            if (page?.NextCursor is { } next) context.Console.MarkupLine($"more: --cursor {Context.Markup(next)}");
            return ExitCodes.Ok;
        });

        var delivery = new Argument<Guid>("delivery") { Description = "The delivery's id." };
        var resend = new Command("resend", "Send a delivery again under its webhook-id, with the whole retry schedule.") { delivery };
        resend.Does(terminal, async (context, parsed, ct) =>
        {
            var resent = await context.Platform.Client.Api.V1.Notifications.Deliveries[parsed.GetValue(delivery)].Resend.PostAsync(cancellationToken: ct);
            if (context.AsJson) await context.WriteJsonAsync(resent!);
            else await terminal.Out.WriteLineAsync($"delivery {resent!.Id} is {resent.Status} again.");
            return ExitCodes.Ok;
        });

        foreach (var command in new[] { add, list, remove, enable, deliveries, resend }) notifications.Subcommands.Add(command);
        return notifications;
    }
}
