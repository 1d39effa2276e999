using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.BrowserTests;

/// <summary>What a Viewer can and cannot do, and the HTML report as Chromium renders it.</summary>
public class RoleAndReportBrowserTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture fixture;

    public RoleAndReportBrowserTests(BrowserFixture fixture) => this.fixture = fixture;

    private async Task<long> SeedAsync(string address, int port, string product, Severity severity, TriageStatus status = TriageStatus.Unreviewed)
    {
        await using var db = await fixture.App.CreateDbContextAsync();
        var finding = new Finding
        {
            Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, CurrentState = PortState.Open, ServiceName = "http", Product = product,
            Severity = severity, Status = status, FirstSeenAt = DateTime.UtcNow.AddDays(-1), LastSeenAt = DateTime.UtcNow,
        };
        db.Findings.Add(finding);
        await db.SaveChangesAsync();
        return finding.Id;
    }

    /// <summary>Typing a search and pressing Enter searches for what was just typed (it used to run the text before it).</summary>
    [Fact]
    public async Task FindingSearch_TypedThenEnter_SearchesTheTextJustTyped()
    {
        await SeedAsync("192.0.2.61", 8081, "nginx-search-test", Severity.Info);
        await SeedAsync("192.0.2.62", 8082, "apache-search-test", Severity.Info);
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);
        await page.GotoAsync("/findings");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var grid = page.Locator("[data-testid=finding-grid]");
        await Assertions.Expect(grid).ToContainTextAsync("192.0.2.62");

        await page.Locator("[data-testid=finding-search]").PressSequentiallyAsync("nginx-search");
        await page.Locator("[data-testid=finding-search]").PressAsync("Enter");

        await Assertions.Expect(grid).ToContainTextAsync("192.0.2.61");
        await Assertions.Expect(grid).Not.ToContainTextAsync("192.0.2.62");
    }

    /// <summary>In the dark theme a host link is readable: WCAG's 4.5:1 contrast against the page (it stayed dark blue on black).</summary>
    [Fact]
    public async Task FindingsGrid_DarkTheme_HostLinksAreReadable()
    {
        var id = await SeedAsync("192.0.2.63", 8083, "dark-theme-test", Severity.Info);
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);
        await page.GotoAsync("/findings?search=dark-theme-test");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var theme = page.Locator("#radzen-theme-link");
        var light = await theme.GetAttributeAsync("href");
        await page.Locator(".rz-appearance-toggle, button[title='Light or dark theme']").First.ClickAsync();
        await Assertions.Expect(theme).Not.ToHaveAttributeAsync("href", light!);
        var link = page.Locator($"[data-testid=host-link-{id}]");
        await Assertions.Expect(link).ToBeVisibleAsync();

        // Poll: the new theme's stylesheet loads after the link's href changes.
        var contrast = await Eventually.WaitAsync(() => link.EvaluateAsync<double>(ContrastScript), c => c >= 4.5, TimeSpan.FromSeconds(10));

        Assert.True(contrast >= 4.5, $"host link contrast {contrast:F2}:1 in the dark theme");
    }

    /// <summary>The WCAG contrast ratio of an element's text colour against the first opaque background behind it.</summary>
    private const string ContrastScript = """
        element => {
          const rgb = c => c.match(/[\d.]+/g).map(Number);
          const luminance = ([r, g, b]) => {
            const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
          };
          let node = element, background = null;
          while (node && !background) {
            const c = rgb(getComputedStyle(node).backgroundColor);
            if (c.length < 4 || c[3] > 0.5) background = c;
            node = node.parentElement;
          }
          background = background || [255, 255, 255];
          const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background)];
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }
        """;

    [Fact]
    public async Task Viewer_SeesNoEditControls_AndADirectEditRequestIsRefused()
    {
        var id = await SeedAsync("192.0.2.60", 8080, "nginx", Severity.Info);
        await fixture.App.CreateUserAsync("vera", Roles.Viewer);
        var page = await fixture.NewPageAsync();
        var problems = BrowserFixture.CollectProblems(page);
        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", "vera");
        await page.FillAsync("#password", PortWatchAppFactory.UserPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("[data-testid=current-user]")).ToHaveTextAsync("vera");

        await page.GotoAsync("/findings");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{id}]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=bulk-actions]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator($"[data-testid=select-{id}]")).ToHaveCountAsync(0);
        await BrowserFixture.SaveScreenshotAsync(page, "20-viewer-findings");
        foreach (var (path, control) in new[] { ("/assets", "asset-add"), ("/assets", "import-text"), ("/exceptions", "exception-add"), ("/schedules", "schedule-add"), ("/scans", "scan-start") })
        {
            await page.GotoAsync(path);
            await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator($"[data-testid={control}]")).ToHaveCountAsync(0);
        }
        await page.GotoAsync("/settings");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("access-denied"));

        // A crafted request with the viewer's own session cookie changes nothing.
        var crafted = await page.APIRequest.PostAsync("/api/v1/findings/triage", new() { DataObject = new { ids = new[] { id }, action = "resolve" } });
        Assert.Equal(403, crafted.Status);
        await using var db = await fixture.App.CreateDbContextAsync();
        Assert.Equal(TriageStatus.Unreviewed, (await db.Findings.SingleAsync(f => f.Id == id)).Status);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task HtmlReport_RendersInChromiumWithHostileBannerAsText()
    {
        await SeedAsync("192.0.2.70", 6379, "<script>document.title='pwned'</script>", Severity.Critical, TriageStatus.Abnormal);
        await SeedAsync("192.0.2.71", 443, "nginx", Severity.Info);
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);

        await page.GotoAsync("/reports");
        await Assertions.Expect(page.Locator("[data-testid=export-html]")).ToBeVisibleAsync();
        await BrowserFixture.SaveScreenshotAsync(page, "30-reports");
        // Only this test's two hosts: the class's other tests add findings to the same database.
        await page.GotoAsync("/api/v1/findings/export?format=html&inline=true&search=192.0.2.70/31");

        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("PortWatch findings report");
        await Assertions.Expect(page.Locator("#report-high-risk")).ToContainTextAsync("(1)");
        await Assertions.Expect(page.Locator("#report-abnormal")).ToContainTextAsync("(1)");
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("<script>document.title='pwned'</script>");
        Assert.Equal("PortWatch findings report", await page.TitleAsync());
        await BrowserFixture.SaveScreenshotAsync(page, "31-html-report");
    }

    [Fact]
    public async Task ReportsPage_ImportMasscanFile_OpensTheNewRunWithItsChanges()
    {
        var file = Path.Combine(Path.GetTempPath(), $"masscan-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, "#masscan\nopen tcp 2375 192.0.2.90 1700000000\n# end\n");
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);

        await page.GotoAsync("/reports");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=import-scan-file]").SetInputFilesAsync(file);
        await Assertions.Expect(page.Locator("[data-testid=import-preview-new]")).ToContainTextAsync("1 new open port(s): 192.0.2.90:");
        await Assertions.Expect(page.Locator("[data-testid=import-preview-closed]")).ToContainTextAsync("nothing will be closed");
        await BrowserFixture.SaveScreenshotAsync(page, "32-import-preview");
        await page.ClickAsync("[data-testid=import-apply]");

        await Assertions.Expect(page).ToHaveURLAsync(new Regex(@"/scans/\d+$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=run-change-summary]")).ToContainTextAsync("New open: 1");
        await Assertions.Expect(page.Locator("[data-testid=run-changes]")).ToContainTextAsync("192.0.2.90");
        await BrowserFixture.SaveScreenshotAsync(page, "33-imported-run");
        File.Delete(file);
    }
}
