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

    public Profile? Find(string name)
    {
        var key = terminal.Environment("ENATE_API_KEY");
        var url = terminal.Environment("ENATE_URL");
        var saved = Read().GetValueOrDefault(name);
        if (key is { Length: > 0 }) return new Profile(url is { Length: > 0 } ? url : saved?.Url ?? "http://localhost:5080", key);
        return saved is null ? null : saved with { Url = url is { Length: > 0 } ? url : saved.Url };
    }

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
