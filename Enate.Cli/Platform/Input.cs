using System.CommandLine;
using System.Text.Json;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Serialization.Json;

namespace Enate.Cli;

/// A run's input: a JSON file, or standard input with `-`; `{}` when none is given.
public static class Input
{
    public static Option<string?> Option() => new("--input", "-i") { Description = "A JSON file with the input ('-' reads standard input)." };

    public static async Task<UntypedNode> ReadAsync(Context context, string? path, CancellationToken ct)
    {
        var text = path switch
        {
            null => "{}",
            "-" => await context.Terminal.In.ReadToEndAsync(ct),
            _ => File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : throw new Failure($"{path}: no such file.", ExitCodes.Usage),
        };
        try
        {
            using var document = JsonDocument.Parse(text);
            return new JsonParseNode(document.RootElement.Clone()).GetObjectValue(UntypedNode.CreateFromDiscriminatorValue)!;
        }
        catch (JsonException e)
        {
            throw new Failure($"the input is not JSON: {e.Message}", ExitCodes.Usage);
        }
    }
}
