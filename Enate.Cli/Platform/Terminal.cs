using Spectre.Console;

namespace Enate.Cli;

/// Where the command writes and reads, and what it talks to: the process's console and the user's configuration
/// folder, or, in tests, writers, a folder of their own and the API's in-memory handler.
public sealed record Terminal(TextWriter Out, TextWriter Error, TextReader In, bool Interactive, string ConfigFolder,
    Func<string, string?> Environment, HttpMessageHandler? Handler = null)
{
    public static Terminal FromSystem() => new(Console.Out, Console.Error, Console.In,
        !Console.IsInputRedirected && !Console.IsOutputRedirected, DefaultConfigFolder(), System.Environment.GetEnvironmentVariable);

    /// `$ENATE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/enate`, else `~/.config/enate` (`%APPDATA%\enate` on Windows).
    private static string DefaultConfigFolder()
    {
        if (System.Environment.GetEnvironmentVariable("ENATE_CONFIG_DIR") is { Length: > 0 } given) return given;
        if (System.Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg) return Path.Combine(xdg, "enate");
        return OperatingSystem.IsWindows()
            ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.ApplicationData), "enate")
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".config", "enate");
    }

    /// Tables, colours and progress for people; plain when the output is redirected (CI logs, pipes).
    public IAnsiConsole Ansi() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Out),
        Ansi = Interactive ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = Interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No,
    });
}
