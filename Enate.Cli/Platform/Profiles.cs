using System.Text.Json;
using System.Text.Json.Serialization;

namespace Enate.Cli;

/// A platform address and the key to call it with, saved by `enate login` under a name.
public sealed record Profile(string Url, string Key);

/// The profiles in `config.json` of the configuration folder, readable by the user alone. `ENATE_URL` and
/// `ENATE_API_KEY` stand in for a profile (CI jobs take the key from their secret store, never from the command line).
public sealed class Profiles(Terminal terminal)
{
    public const string Default = "default";
    private string File => Path.Combine(terminal.ConfigFolder, "config.json");

    private sealed record Stored(Dictionary<string, Profile> Profiles);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private Dictionary<string, Profile> Read() =>
        System.IO.File.Exists(File)
            ? JsonSerializer.Deserialize<Stored>(System.IO.File.ReadAllText(File), Json)?.Profiles ?? []
            : [];

    /// The profile to call the platform with, at the address given (`--url`, else `ENATE_URL`). A key from the
    /// environment goes where it is told; a saved key goes only to the origin it was saved for, so a mistyped or
    /// planted address never receives it.
    public Profile? Find(string name, string? url)
    {
        var key = terminal.Environment("ENATE_API_KEY");
        var wanted = url is { Length: > 0 } ? url : terminal.Environment("ENATE_URL") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        var saved = Read().GetValueOrDefault(name);
        if (key is { Length: > 0 }) return new Profile(wanted ?? saved?.Url ?? "http://localhost:5080", key);
        if (saved is null) return null;
        if (wanted is not null && !SameOrigin(wanted, saved.Url))
            throw new Failure($"profile '{name}' holds a key for {saved.Url}, not for {wanted}: run 'enate login --url {wanted}' " +
                              "(with --profile to keep both), or set ENATE_API_KEY.", ExitCodes.Usage);
        return saved;
    }

    private static bool SameOrigin(string a, string b) =>
        Uri.TryCreate(a, UriKind.Absolute, out var x) && Uri.TryCreate(b, UriKind.Absolute, out var y) &&
        Uri.Compare(x, y, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    public void Save(string name, Profile profile)
    {
        var all = Read();
        all[name] = profile;
        Write(all);
    }

    public bool Forget(string name)
    {
        var all = Read();
        if (!all.Remove(name)) return false;
        Write(all);
        return true;
    }

    private void Write(Dictionary<string, Profile> all)
    {
        Directory.CreateDirectory(terminal.ConfigFolder);
        var text = JsonSerializer.Serialize(new Stored(all), Json);
        // Created readable by its owner only, before the key is written into it.
        if (!OperatingSystem.IsWindows())
        {
            using var created = new FileStream(File, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            System.IO.File.SetUnixFileMode(File, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            using var writer = new StreamWriter(created);
            writer.Write(text);
            return;
        }
        System.IO.File.WriteAllText(File, text);
    }
}
