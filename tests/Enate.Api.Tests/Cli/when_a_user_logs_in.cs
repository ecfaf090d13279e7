namespace Enate.Api.Tests.Cli;

/// `enate login` keeps the key out of shell history (it is typed or piped, never an argument), saves it readable by
/// the user alone, and saves nothing the platform does not know.
public sealed class when_a_user_logs_in(AppFixture app) : AppTest(app), IDisposable
{
    private readonly CommandLine _enate = new(app);

    [Fact]
    public async Task a_known_key_is_saved_for_the_user_alone_and_an_unknown_one_not_at_all()
    {
        var unknown = await _enate.RunWithInputAsync("not-a-key\n", "login", "--url", CommandLine.Url);
        Assert.Equal(1, unknown.ExitCode);
        Assert.False(File.Exists(Path.Combine(_enate.ConfigFolder, "config.json")));

        var notLoggedIn = await _enate.RunAsync("runs", "ls");
        Assert.Equal(2, notLoggedIn.ExitCode);
        Assert.Contains("enate login", notLoggedIn.Error);

        await _enate.LoginAsync(AppFixture.AdminKey);
        var config = Path.Combine(_enate.ConfigFolder, "config.json");
        Assert.Contains(AppFixture.AdminKey, await File.ReadAllTextAsync(config));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Equal(0, (await _enate.RunAsync("runs", "ls")).ExitCode);

        // The saved key goes only to the platform it was saved for.
        var elsewhere = await _enate.RunAsync("runs", "ls", "--url", "http://attacker.example");
        Assert.Equal(2, elsewhere.ExitCode);
        Assert.Contains("holds a key for http://localhost", elsewhere.Error);
        _enate.Environment["ENATE_URL"] = "http://attacker.example:8080";
        Assert.Equal(2, (await _enate.RunAsync("runs", "ls")).ExitCode);
        _enate.Environment.Remove("ENATE_URL");

        Assert.Equal(0, (await _enate.RunAsync("logout")).ExitCode);
        Assert.DoesNotContain(AppFixture.AdminKey, await File.ReadAllTextAsync(config));
    }

    /// CI takes the key from its secret store into the environment; nothing is saved.
    [Fact]
    public async Task a_key_in_the_environment_stands_in_for_a_login()
    {
        _enate.Environment["ENATE_API_KEY"] = AppFixture.AdminKey;
        _enate.Environment["ENATE_URL"] = CommandLine.Url;
        var listed = await _enate.RunAsync("runs", "ls", "--json");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.False(File.Exists(Path.Combine(_enate.ConfigFolder, "config.json")));
    }

    [Fact]
    public async Task a_wrong_command_line_exits_2_and_a_refusal_1_with_the_problem()
    {
        await _enate.LoginAsync(AppFixture.AdminKey);
        Assert.Equal(2, (await _enate.RunAsync("runs", "show", "not-a-guid")).ExitCode);
        Assert.Equal(2, (await _enate.RunAsync("recipes", "push", "/no/such/folder")).ExitCode);
        var missing = await _enate.RunAsync("runs", "show", Guid.NewGuid().ToString(), "--json");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("404", missing.Error);
        Assert.Equal(404, System.Text.Json.Nodes.JsonNode.Parse(missing.Out)!["status"]!.GetValue<int>());
    }

    public void Dispose() => _enate.Dispose();
}
