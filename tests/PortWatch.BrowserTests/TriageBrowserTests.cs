using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;

namespace PortWatch.BrowserTests;

/// <summary>An analyst's day in the real browser: import assets, scan, triage, drill into a host.</summary>
public class TriageBrowserTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture fixture;

    public TriageBrowserTests(BrowserFixture fixture) => this.fixture = fixture;

    [Fact]
    public async Task AnalystWorkflow_ImportScanTriageAndHostDetail_WorkInTheBrowser()
    {
        // A hostile banner: the page must show it as text, never as markup.
        using var ssh = new BannerListener("SSH-2.0-OpenSSH_9.2p1 <img src=x onerror=alert(1)>\r\n");
        using var other = new LoopbackListener();
        await using (var db = await fixture.App.CreateDbContextAsync())
        {
            // Generous timeouts: the browser tests share two cores with Chromium, and a starved thread pool must not turn an open port filtered.
            var profile = new ScanProfile { Name = "Browser test", TcpPorts = $"{ssh.Port},{other.Port}", Engine = ScanEngineKind.Connect, ServiceDetection = true, VersionIntensity = 1, Retries = 2, TimeoutMs = 3000 };
            db.ScanProfiles.Add(profile);
            await db.SaveChangesAsync();
        }
        var page = await fixture.NewPageAsync();
        var problems = BrowserFixture.CollectProblems(page);
        await BrowserFixture.SignInAsAdminAsync(page);

        // Assets: a pasted list with one bad line is reported, nothing saved until the user keeps the valid lines.
        await page.GotoAsync("/assets");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=import-text] , textarea[data-testid=import-text]").First.FillAsync("127.0.0.1\n10.0.0.0/33\n192.0.2.0/30");
        await page.Locator("[data-testid=import-check]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=import-report]")).ToContainTextAsync("2 valid, 1 rejected");
        await Assertions.Expect(page.Locator("[data-testid=import-rejected]")).ToContainTextAsync("Line 2");
        await page.Locator("[data-testid=import-go]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=import-error]")).ToContainTextAsync("nothing was saved");
        await page.Locator("[data-testid=import-keep-valid]").ClickAsync();
        await page.Locator("[data-testid=import-go]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=asset-grid]")).ToContainTextAsync("192.0.2.0/30");
        await Assertions.Expect(page.Locator("[data-testid=asset-grid]")).ToContainTextAsync("127.0.0.1");
        await BrowserFixture.SaveScreenshotAsync(page, "10-assets");

        // Scan the loopback listeners and watch the run complete.
        await page.GotoAsync("/scans");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=scan-targets]").FillAsync("127.0.0.1");
        await page.Locator("[data-testid=scan-profile]").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Browser test" }).ClickAsync();
        await page.Locator("[data-testid=scan-start]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid^=run-status-]").First).ToHaveTextAsync("Completed", new() { Timeout = 60_000 });
        await page.Locator("[data-testid^=run-link-]").First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=run-change-summary]")).ToContainTextAsync("New open: 2");
        await BrowserFixture.SaveScreenshotAsync(page, "11-run-detail");

        // Findings: both ports listed; mark one expected with an exception, the other abnormal.
        await page.GotoAsync("/findings");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var grid = page.Locator("[data-testid=finding-grid]");
        await Assertions.Expect(grid).ToContainTextAsync("ssh");
        long sshId, otherId;
        await using (var db = await fixture.App.CreateDbContextAsync())
        {
            sshId = await db.Findings.Where(f => f.Port == ssh.Port).Select(f => f.Id).SingleAsync();
            otherId = await db.Findings.Where(f => f.Port == other.Port).Select(f => f.Id).SingleAsync();
        }
        await page.Locator($"[data-testid=select-{sshId}]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=selected-count]")).ToHaveTextAsync("1 selected");
        await page.Locator("[data-testid=bulk-expected]").ClickAsync();
        await page.Locator("[data-testid=expected-reason]").FillAsync("bastion host, CHG-42");
        await page.Locator("[data-testid=expected-confirm]").ClickAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{sshId}]")).ToHaveTextAsync("Expected");

        await page.Locator($"[data-testid=select-{otherId}]").ClickAsync();
        await page.Locator("[data-testid=bulk-abnormal]").ClickAsync();
        // The assignee is picked from the users, not typed.
        await page.Locator("[data-testid=abnormal-assignee]").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = PortWatchAppFactory.AdminUser, Exact = true }).ClickAsync();
        await page.Locator("[data-testid=abnormal-confirm]").ClickAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{otherId}]")).ToHaveTextAsync("Abnormal");
        await BrowserFixture.SaveScreenshotAsync(page, "12-findings");

        // Filters and search narrow the grid.
        await page.GetByText("Abnormal", new() { Exact = true }).First.ClickAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{otherId}]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{sshId}]")).ToHaveCountAsync(0);
        await page.GetByText("All", new() { Exact = true }).First.ClickAsync();
        await page.Locator("[data-testid=finding-search]").FillAsync(ssh.Port.ToString());
        await page.Locator("[data-testid=finding-search-go]").ClickAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{sshId}]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=status-{otherId}]")).ToHaveCountAsync(0);

        // The exception exists; the host page shows the banner as inert text and the history.
        await page.GotoAsync("/exceptions");
        await Assertions.Expect(page.Locator("[data-testid=exception-grid]")).ToContainTextAsync("bastion host, CHG-42");
        await BrowserFixture.SaveScreenshotAsync(page, "13-exceptions");
        await page.GotoAsync("/findings");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator($"[data-testid=host-link-{sshId}]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=host-title]")).ToHaveTextAsync("127.0.0.1");
        await Assertions.Expect(page.Locator($"[data-testid=history-{ssh.Port}]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=banner-{ssh.Port}]")).ToContainTextAsync("<img src=x onerror=alert(1)>");
        await Assertions.Expect(page.Locator($"[data-testid=port-{ssh.Port}] img")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator($"[data-testid=history-{ssh.Port}]")).ToContainTextAsync("Unreviewed → Expected, with a new exception by admin");
        await BrowserFixture.SaveScreenshotAsync(page, "14-host");

        // The host page leads to the finding's own page, where the team discusses it.
        await page.Locator($"[data-testid=finding-link-{ssh.Port}]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-title]")).ToContainTextAsync($"{ssh.Port}/tcp");
        await page.Locator("[data-testid=finding-comment-text]").FillAsync("jump host of the ops team");
        await page.Locator("[data-testid=finding-comment-send]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-comments]")).ToContainTextAsync("jump host of the ops team");
        await Assertions.Expect(page.Locator("[data-testid=finding-history]")).ToContainTextAsync("comment by admin");
        await using (var db = await fixture.App.CreateDbContextAsync())
            Assert.Equal("jump host of the ops team", (await db.Findings.SingleAsync(f => f.Id == sshId)).Notes);

        foreach (var (path, name) in new[] { ("/", "15-overview-after-scan"), ("/schedules", "16-schedules"), ("/settings", "17-settings"), ("/reports", "18-reports") })
        {
            await page.GotoAsync(path);
            await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
            await BrowserFixture.SaveScreenshotAsync(page, name);
        }
        Assert.Empty(problems);
    }
}
