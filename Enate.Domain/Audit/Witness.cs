using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace Enate.Domain.Audit;

/// Where checkpoints are kept out of a database writer's reach: appended, never rewritten. Verification compares the
/// database's chain with what the witness holds.
public interface IWitness
{
    /// Where the witness keeps checkpoints, in words, for answers and logs.
    string Describe { get; }

    Task AppendAsync(Checkpoint checkpoint, CancellationToken ct);

    /// A tenant's checkpoints in the order they were appended.
    IAsyncEnumerable<Checkpoint> ReadAsync(string tenant, CancellationToken ct);
}

/// A folder of append-only files, one a day (`checkpoints-YYYY-MM-DD.ndjson`, one checkpoint a line), for development
/// and single-host installs (`Enate:Audit:Witness:Folder`). In production point it at storage that the database's
/// writers cannot change — or use object storage with an object lock (docs/audit.md).
public sealed class FolderWitness(string folder) : IWitness
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly SemaphoreSlim Writing = new(1, 1);

    public string Folder { get; } = Path.GetFullPath(folder);
    public string Describe => $"folder {Folder}";

    public static IWitness? From(IConfiguration configuration) =>
        configuration["Enate:Audit:Witness:Folder"] is { Length: > 0 } folder ? new FolderWitness(folder) : null;

    public async Task AppendAsync(Checkpoint checkpoint, CancellationToken ct)
    {
        Directory.CreateDirectory(Folder);
        var day = checkpoint.Time[..10];
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(checkpoint, Json) + "\n");
        await Writing.WaitAsync(ct);
        try
        {
            // One write of one line, flushed to the disk before the checkpoint counts as made.
            await using var file = new FileStream(Path.Combine(Folder, $"checkpoints-{day}.ndjson"), FileMode.Append, FileAccess.Write,
                FileShare.ReadWrite, 4096, FileOptions.WriteThrough);
            await file.WriteAsync(line, ct);
            file.Flush(flushToDisk: true);
        }
        finally
        {
            Writing.Release();
        }
    }

    /// A checkpoint appended again right after itself (a signing cut short after the append, then finished) reads once.
    public async IAsyncEnumerable<Checkpoint> ReadAsync(string tenant, [EnumeratorCancellation] CancellationToken ct)
    {
        if (!Directory.Exists(Folder)) yield break;
        Checkpoint? last = null;
        foreach (var path in Directory.GetFiles(Folder, "checkpoints-*.ndjson").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0) continue;
                Checkpoint? checkpoint;
                try
                {
                    checkpoint = JsonSerializer.Deserialize<Checkpoint>(line, Json);
                }
                catch (JsonException)
                {
                    // A line that is no checkpoint counts as none: verification then finds the gap it leaves.
                    continue;
                }
                if (checkpoint?.Tenant != tenant || checkpoint == last) continue;
                last = checkpoint;
                yield return checkpoint;
            }
        }
    }
}
