extern alias cli;

using cli::Enate.Cli;

namespace Enate.Api.Tests.Cli;

/// The `enate` command as a user runs it, against the test platform: its own configuration folder, its output and
/// errors captured, the API reached through the test server.
public sealed class CommandLine(AppFixture app) : IDisposable
{
    public string ConfigFolder { get; } = Directory.CreateTempSubdirectory("enate-cli-").FullName;
    public const string Url = "http://localhost";

    public sealed record Result(int ExitCode, string Out, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- out\n{Out}\n--- error\n{Error}";
    }

    /// The environment the command sees (ENATE_API_KEY, ENATE_URL); empty unless a test sets it.
    public Dictionary<string, string> Environment { get; } = [];

    public async Task<Result> RunWithInputAsync(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var terminal = new Terminal(output, error, new StringReader(input), Interactive: false, ConfigFolder, name => Environment.GetValueOrDefault(name),
            app.Api.Server.CreateHandler());
        var code = await cli::Enate.Cli.Cli.RunAsync(args, terminal);
        return new Result(code, output.ToString(), error.ToString());
    }

    public Task<Result> RunAsync(params string[] args) => RunWithInputAsync("", args);

    /// Logged in as a profile with a key, as `echo $KEY | enate login` does.
    public async Task LoginAsync(string key, string profile = "default")
    {
        var result = await RunWithInputAsync(key + "\n", "login", "--url", Url, "--profile", profile);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public void Dispose() => Directory.Delete(ConfigFolder, recursive: true);
}
