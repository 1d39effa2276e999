using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;

namespace PortWatch.BrowserTests;

/// <summary>
/// Every page, at a laptop's 1366×768 and a desktop's 1920×1080, in the light and the dark theme:
/// nothing scrolls sideways, no text is cut without a tooltip, nothing sits off screen, and axe-core
/// finds no serious or critical accessibility violation. Screenshots of each page and theme go to
/// artifacts/screenshots.
/// </summary>
public class PageQualityBrowserTests : IClassFixture<BrowserFixture>
{
    private static readonly SemaphoreSlim SeedLock = new(1, 1);
    private readonly BrowserFixture fixture;

    public PageQualityBrowserTests(BrowserFixture fixture) => this.fixture = fixture;

    private async Task<DashboardSeed.Seeded> SeedOnceAsync()
    {
        await SeedLock.WaitAsync();
        try
        {
            await using var db = await fixture.App.CreateDbContextAsync();
            if (await db.ScanRuns.AnyAsync(r => r.TargetSpec == "198.51.100.0/28"))
            {
                var run = await db.ScanRuns.Where(r => r.TargetSpec == "198.51.100.0/28").Select(r => r.Id).FirstAsync();
                var https = await db.Findings.Where(f => f.Port == 443).Select(f => f.Id).FirstAsync();
                return new DashboardSeed.Seeded(run, https, await db.Schedules.Select(s => s.Id).FirstAsync());
            }
            return await DashboardSeed.SeedAsync(fixture.App);
        }
        finally
        {
            SeedLock.Release();
        }
    }

    [Theory]
    [InlineData(1366, 768)]
    [InlineData(1920, 1080)]
    public async Task EveryPage_BothThemes_NothingCutNoSidewaysScrollNoSeriousAxeViolation(int width, int height)
    {
        var seeded = await SeedOnceAsync();
        var pages = new (string Path, string Name)[]
        {
            ("/", "overview"), ("/assets", "assets"), ("/findings", "findings"), ($"/findings/{seeded.HttpsFindingId}", "finding"),
            ($"/hosts/{DashboardSeed.Address}", "host"), ("/scans", "scans"), ($"/scans/{seeded.RunId}", "run"), ("/schedules", "schedules"),
            ("/exceptions", "exceptions"), ("/reports", "reports"), ("/tokens", "tokens"), ("/settings", "settings"), ("/profile", "profile"), ("/flows", "flows"),
            ("/no-such-page", "not-found"),
        };
        var problems = new List<string>();
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseUrl, ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(15_000);

        // Signed out first: the sign-in page.
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await CheckAsync(page, $"{width}: sign-in (light)", problems);
        if (width == 1366)
            await BrowserFixture.SaveScreenshotAsync(page, "page-sign-in-light");
        await BrowserFixture.SignInAsAdminAsync(page);

        foreach (var theme in new[] { "light", "dark" })
        {
            foreach (var (path, name) in pages)
            {
                await page.GotoAsync(path);
                if (name != "not-found") // a static page: there is no circuit to wait for
                    await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
                if (theme == "dark" && path == pages[0].Path)
                    await page.Locator(".rz-appearance-toggle, button[title='Light or dark theme']").First.ClickAsync();
                await Assertions.Expect(page.Locator("#radzen-theme-link")).ToHaveAttributeAsync("href", theme == "dark" ? new Regex("dark") : new Regex("^(?!.*dark)"));
                if (name == "settings")
                {
                    // Each tab is a page of its own to the eye.
                    var tabs = page.Locator(".rz-tabview-nav li");
                    for (var i = 0; i < await tabs.CountAsync(); i++)
                    {
                        var tab = tabs.Nth(i);
                        var label = (await tab.InnerTextAsync()).Trim();
                        await tab.ClickAsync();
                        await Assertions.Expect(tab).ToHaveClassAsync(new Regex("rz-tabview-selected"));
                        await CheckAsync(page, $"{width}: settings/{label} ({theme})", problems);
                        if (width == 1366)
                            await BrowserFixture.SaveScreenshotAsync(page, $"page-settings-{Regex.Replace(label.ToLowerInvariant(), "[^a-z]+", "-")}-{theme}");
                    }
                    continue;
                }
                await CheckAsync(page, $"{width}: {name} ({theme})", problems);
                if (width == 1366)
                    await BrowserFixture.SaveScreenshotAsync(page, $"page-{name}-{theme}");
            }
        }
        await context.CloseAsync();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static async Task CheckAsync(IPage page, string where, List<string> problems)
    {
        // Let the page settle: grids and cards load after the circuit is live.
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        foreach (var problem in await page.EvaluateAsync<string[]>(LayoutScript))
            problems.Add($"{where}: {problem}");
        var axe = await page.RunAxe();
        foreach (var violation in axe.Violations.Where(v => v.Impact is "serious" or "critical"))
        {
            var targets = string.Join(", ", violation.Nodes.Take(3).Select(n => $"{n.Target} {Cut(n.Html)}"));
            problems.Add($"{where}: axe {violation.Impact} {violation.Id}: {violation.Help} ({violation.Nodes.Length} node(s), e.g. {targets})");
        }
    }

    private static string Cut(string? html) => html is null ? "" : html.Length > 120 ? html[..120] + "…" : html;

    /// <summary>
    /// What a reader would call broken layout: the page scrolling sideways, a box scrolling sideways (a grid wider than
    /// the screen), text cut by overflow or an ellipsis with no title to read it in full, a button or link off screen.
    /// </summary>
    private const string LayoutScript = """
        () => {
          const problems = [];
          const root = document.scrollingElement;
          if (root.scrollWidth > root.clientWidth + 1) problems.push(`the page scrolls sideways (${root.scrollWidth} px of ${root.clientWidth})`);
          const describe = el => {
            let s = el.tagName.toLowerCase();
            const id = el.getAttribute('data-testid'); if (id) s += `[data-testid=${id}]`;
            if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).slice(0, 2).join('.');
            return s;
          };
          const titled = el => { for (let e = el; e && e !== document.body; e = e.parentElement) if (e.getAttribute('title')) return true; return false; };
          const width = document.documentElement.clientWidth;
          for (const el of document.body.querySelectorAll('*')) {
            if (['INPUT', 'TEXTAREA', 'SELECT', 'OPTION', 'SCRIPT', 'STYLE'].includes(el.tagName) || el.closest('svg')) continue;
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            const rect = el.getBoundingClientRect();
            if (rect.width === 0 || rect.height === 0) continue;
            const text = (el.innerText || '').trim();
            if (el.scrollWidth > el.clientWidth + 1) {
              const clips = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
              const scrolls = ['auto', 'scroll'].includes(style.overflowX);
              if (clips && text && !titled(el)) problems.push(`text cut: ${describe(el)} "${text.slice(0, 60)}"`);
              else if (scrolls && !el.classList.contains('pw-banner')) problems.push(`scrolls sideways: ${describe(el)} (${el.scrollWidth} px of ${el.clientWidth})`);
            }
            if ((el.tagName === 'BUTTON' || el.tagName === 'A') && rect.right > width + 1) problems.push(`off screen: ${describe(el)} "${text.slice(0, 40)}" ends at x=${Math.round(rect.right)}`);
          }
          return [...new Set(problems)];
        }
        """;
}
