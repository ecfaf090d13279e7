using System.CommandLine;
using Enate.Cli.Client.Models;
using Spectre.Console;

using JsonNode = System.Text.Json.Nodes.JsonNode;
using JsonObject = System.Text.Json.Nodes.JsonObject;

namespace Enate.Cli.Commands;

public static class AuditCommands
{
    public static Command Build(Terminal terminal)
    {
        var audit = new Command("audit", "Verify the tenant's audit chain, and export it.");
        audit.Subcommands.Add(Verify(terminal));
        audit.Subcommands.Add(Export(terminal));
        return audit;
    }

    /// The platform recomputes the chain from the event store and walks the witness's signed checkpoints beside it.
    private static Command Verify(Terminal terminal)
    {
        var command = new Command("verify", "Recompute the audit chain and check it against the signed checkpoints; exits 3 when it does not verify.");
        command.Does(terminal, async (context, _, ct) =>
        {
            Verification? result = null;
            if (context.AsJson || !terminal.Interactive) result = await context.Platform.Client.Api.V1.Audit.Verify.GetAsync(cancellationToken: ct);
            else
                await context.Console.Status().StartAsync("Verifying the audit chain…",
                    async _ => result = await context.Platform.Client.Api.V1.Audit.Verify.GetAsync(cancellationToken: ct));
            if (context.AsJson) await context.WriteJsonAsync(result!);
            else
            {
                context.Console.MarkupLine(result!.Ok == true ? "[green]verified[/]" : "[red]does not verify[/]");
                context.Console.MarkupLine($"events chained: {result.Checked}; not yet chained: {result.Unchained}");
                context.Console.MarkupLine($"head: {Context.Markup(result.HeadHash)}");
                if (result.Witness is { } w)
                    context.Console.MarkupLine($"witness: {w.Checkpoints} checkpoints{(w.LastTime is null ? "" : $", the last at {Context.Markup(w.LastTime)}")}");
                if (result.FirstMismatch is { } m)
                    context.Console.MarkupLine($"[red]first mismatch[/] at event {m.Seq} (stream {Context.Markup(m.StreamId)}, version {m.Version}): " +
                                               $"{Context.Markup(m.Reason)}: {Context.Markup(m.Detail)}");
            }
            return result!.Ok == true ? ExitCodes.Ok : ExitCodes.Differs;
        });
        return command;
    }

    /// The chained events as NDJSON, written as they stream in (constant memory however long the chain).
    private static Command Export(Terminal terminal)
    {
        var output = new Option<string?>("--output", "-o") { Description = "The file to write (default: standard output)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Events recorded at or after this time." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Events recorded before this time." };
        var command = new Command("export", "Download the chained events as NDJSON, one event a line with its hashes.") { output, from, to };
        command.Does(terminal, async (context, parsed, ct) =>
        {
            var request = context.Platform.Client.Api.V1.Audit.Export.ToGetRequestInformation(r =>
            {
                r.QueryParameters.From = parsed.GetValue(from);
                r.QueryParameters.To = parsed.GetValue(to);
            });
            await using var stream = await context.Platform.StreamAsync(request, ct);
            if (parsed.GetValue(output) is not { } path)
            {
                using var reader = new StreamReader(stream);
                while (await reader.ReadLineAsync(ct) is { } line) await terminal.Out.WriteLineAsync(line);
                return ExitCodes.Ok;
            }
            long lines = 0, bytes = 0;
            await using (var file = File.Create(path))
            {
                var buffer = new byte[64 * 1024];
                async Task CopyAsync(Action? tick)
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, ct)) > 0)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, read), ct);
                        bytes += read;
                        lines += buffer.AsSpan(0, read).Count((byte)'\n');
                        tick?.Invoke();
                    }
                }
                if (terminal.Interactive && !context.AsJson)
                    await context.Console.Status().StartAsync("Exporting…", async status => await CopyAsync(() => status.Status($"Exporting… {lines:N0} events")));
                else await CopyAsync(null);
            }
            if (context.AsJson) await context.WriteJsonAsync(new System.Text.Json.Nodes.JsonObject { ["file"] = path, ["events"] = lines, ["bytes"] = bytes });
            else await terminal.Error.WriteLineAsync($"{lines:N0} events ({bytes:N0} bytes) written to {path}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
