using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;

namespace PortWatch.BrowserTests;

/// <summary>
/// PortWatch on a real Kestrel socket at 127.0.0.1 (fresh SQLite database) and Debian's
/// Chromium driven by Playwright. Playwright never downloads a browser here.
/// </summary>
public class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ];

    private IPlaywright? playwright;

    public KestrelAppFactory App { get; } = new();

    public IBrowser Browser { get; private set; } = default!;

    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // The test assemblies run side by side on two cores; a page may take seconds to go live. Waiting is not the thing under test.
        Assertions.SetDefaultExpectTimeout(15_000);
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (the README's test command does).");
        // Revalidate open dashboards often, so the test of a locked user's circuit needs no long wait.
        App.Settings["Sessions:RevalidationSeconds"] = "2";
        Configure(App.Settings);
        App.StartServer();
        BaseUrl = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>Settings a test class needs before the dashboard starts (a Jira stand-in, a mail server).</summary>
    protected virtual void Configure(IDictionary<string, string?> settings)
    {
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1366, Height = 768 },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in as the administrator through the real login form and waits for the dashboard.</summary>
    public static async Task SignInAsAdminAsync(IPage page)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", PortWatchAppFactory.AdminUser);
        await page.FillAsync("#password", PortWatchAppFactory.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("[data-testid=current-user]")).ToBeVisibleAsync();
    }

    /// <summary>Console errors and server errors the page runs into; a broken asset or script shows up here.</summary>
    public static List<string> CollectProblems(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                problems.Add($"console: {message.Text}");
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 500)
                problems.Add($"{response.Status} {response.Url}");
        };
        return problems;
    }

    /// <summary>Screenshots are test artifacts: artifacts/screenshots at the repository root.</summary>
    public static async Task SaveScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, $"{name}.png"), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Dashboard.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? AppContext.BaseDirectory;
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        playwright?.Dispose();
        await App.DisposeAsync();
    }
}

public sealed class KestrelAppFactory : PortWatchAppFactory
{
    public KestrelAppFactory() => UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
}
