using System.CommandLine;
using Enate.Cli.Client.Models;
using Spectre.Console;

namespace Enate.Cli.Commands;

/// The platform operator's commands (a profile logged in with the operator key: `enate login --profile operator`).
public static class TenantCommands
{
    public static Command Build(Terminal terminal)
    {
        var tenants = new Command("tenants", "Create and list tenants (the platform operator's key).");
        var id = new Argument<string>("id") { Description = "The new tenant's id (lower case letters, digits and dashes)." };
        var name = new Option<string>("--name") { Description = "Its display name.", Required = true };
        var create = new Command("create", "Create a tenant; its first admin key is shown once.") { id, name };
        create.Does(terminal, async (context, parsed, ct) =>
        {
            var created = await context.Platform.Client.Api.V1.Tenants.PostAsync(new TenantRequest { Id = parsed.GetValue(id), Name = parsed.GetValue(name) }, cancellationToken: ct);
            if (context.AsJson) await context.WriteJsonAsync(created!);
            else
            {
                await terminal.Out.WriteLineAsync($"tenant {created!.Tenant?.Id} created.");
                await terminal.Out.WriteLineAsync($"admin key (shown once, store it now): {created.AdminKey?.Key}");
            }
            return ExitCodes.Ok;
        });
        var list = new Command("ls", "Every tenant.");
        list.Does(terminal, async (context, _, ct) =>
        {
            var all = new List<TenantView>();
            string? cursor = null;
            do
            {
                var page = await context.Platform.Client.Api.V1.Tenants.GetAsync(r => { r.QueryParameters.Limit = 100; r.QueryParameters.Cursor = cursor; }, ct);
                all.AddRange(page?.Items ?? []);
                cursor = page?.NextCursor;
            } while (cursor is not null);
            if (context.AsJson) await context.WriteJsonAsync(all);
            else
            {
                var table = new Table().AddColumns("id", "name", "created", "disabled");
                foreach (var t in all) table.AddRow(Context.Markup(t.Id), Context.Markup(t.Name), Context.Markup(t.CreatedAt?.ToString("u")), Context.Markup(t.DisabledAt?.ToString("u")));
                context.Console.Write(table);
            }
            return ExitCodes.Ok;
        });
        tenants.Subcommands.Add(create);
        tenants.Subcommands.Add(list);
        return tenants;
    }
}
