extern alias console;

using console::Enate.Console.Platform;
using Deque.AxeCore.Playwright;
using Enate.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace Enate.Api.Tests.Console;

/// The console as a browser sees it: the console on a real port, calling the test API (through the test server's
/// handler) with the signed-in key; headless Chromium driven by Playwright. Chromium comes from the machine
/// (`apt-get install -y chromium`), not from Playwright's download.
public abstract class ConsoleTest(AppFixture app) : PartnerTest(app)
{
    private WebApplication? _console;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    protected IPage Page { get; private set; } = null!;
    protected string Url { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var root = Path.Combine(WorkerProcess.RepositoryRoot(), "Enate.Console");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing", ContentRootPath = root, WebRootPath = Path.Combine(root, "wwwroot"),
            ApplicationName = typeof(ConsoleConfiguration).Assembly.GetName().Name,
        });
        builder.Configuration["Enate:Console:Api"] = "http://localhost";
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddConsole();
        builder.Services.AddHttpClient(console::Enate.Console.Platform.Api.Client).ConfigurePrimaryHttpMessageHandler(() => App.Api.Server.CreateHandler());
        _console = builder.Build();
        _console.MapDefaultEndpoints();
        _console.MapConsole();
        await _console.StartAsync();
        Url = _console.Urls.First();

        var chromium = Environment.GetEnvironmentVariable("ENATE_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(chromium))
            throw new InvalidOperationException($"Chromium is missing at {chromium}: install it (apt-get install -y chromium) or set ENATE_CHROMIUM; the console's browser tests drive it.");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        Page = await _browser.NewPageAsync(new BrowserNewPageOptions { BaseURL = Url, ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        Page.SetDefaultTimeout(30_000);
    }

    /// A form's answer is a redirect: wait until the page's address matches, polling it. Not WaitForURLAsync with a load
    /// state: when the redirect has already happened it waits for that state to fire again (30-s timeouts, seen in CI).
    /// What the test reads next waits for its own element.
    public static Task ArrivedAtAsync(IPage page, string pattern) =>
        Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(pattern), new() { Timeout = 30_000 });

    protected async Task SignInAsync(string key)
    {
        await Page.GotoAsync("/sign-in");
        await Page.GetByLabel("API key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sign-in"), new() { Timeout = 30_000 });
    }

    /// No serious or critical accessibility violation on the page as it stands; a screenshot of it for the docs when
    /// ENATE_WRITE_SCREENSHOTS=1.
    protected async Task CheckPageAsync(string name)
    {
        var results = await Page.RunAxe();
        var bad = results.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{name}: " + string.Join("\n", bad.Select(v => $"{v.Id} ({v.Impact}): {v.Help} — {string.Join(", ", v.Nodes.Select(n => n.Html))}")));
        if (Environment.GetEnvironmentVariable("ENATE_WRITE_SCREENSHOTS") == "1")
            await Page.ScreenshotAsync(new PageScreenshotOptions
            {
                Path = Path.Combine(WorkerProcess.RepositoryRoot(), "docs", "console", name + ".png"), FullPage = true,
            });
    }

    public override async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_console is not null) await _console.DisposeAsync();
        await base.DisposeAsync();
    }
}
