using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.BrowserTests;

/// <summary>A dashboard whose "Create ticket" goes to a local Jira stand-in that checks the create-issue schema.</summary>
public sealed class JiraBrowserFixture : BrowserFixture
{
    public JiraStandIn Jira { get; } = new();

    protected override void Configure(IDictionary<string, string?> settings)
    {
        settings["Tickets:JiraUrl"] = Jira.Url;
        settings["Tickets:JiraProject"] = Jira.Project;
        settings["Tickets:JiraUser"] = Jira.User;
        settings["Tickets:JiraApiToken"] = Jira.Token;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Jira.Dispose();
    }
}

/// <summary>
/// The analyst's workflow as #15 asked for it, each step as a user would hit it: a finding's page
/// with its discussion, assignment to a user, a Jira ticket, confirmations before acting, dialogs
/// whose messages go once fixed, the user's time zone, a readable audit log, a run that shows its
/// progress while it goes and cancels after asking, and a trend chart that names each day once.
/// </summary>
public class WorkflowBrowserTests : IClassFixture<JiraBrowserFixture>
{
    private static readonly SemaphoreSlim SeedLock = new(1, 1);
    private static DashboardSeed.Seeded? seeded;
    private readonly JiraBrowserFixture fixture;

    public WorkflowBrowserTests(JiraBrowserFixture fixture) => this.fixture = fixture;

    private async Task<DashboardSeed.Seeded> SeedOnceAsync()
    {
        await SeedLock.WaitAsync();
        try
        {
            return seeded ??= await DashboardSeed.SeedAsync(fixture.App);
        }
        finally
        {
            SeedLock.Release();
        }
    }

    private async Task<long> FindingIdAsync(int port)
    {
        await using var db = await fixture.App.CreateDbContextAsync();
        return await db.Findings.Where(f => f.Port == port).Select(f => f.Id).SingleAsync();
    }

    private async Task<IPage> SignedInPageAsync()
    {
        await SeedOnceAsync();
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);
        return page;
    }

    private static async Task GoAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
    }

    private static async Task PickAsync(IPage page, string dropdownTestId, string option)
    {
        await page.Locator($"[data-testid={dropdownTestId}]").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true }).ClickAsync();
    }

    [Fact]
    public async Task FindingPage_CommentsAssignmentAndJiraTicket_WorkAsAnAnalystUsesThem()
    {
        var page = await SignedInPageAsync();
        await fixture.App.CreateUserAsync("bob", Roles.Analyst);
        var rdp = await FindingIdAsync(3389);

        // From the findings grid to the finding's own page.
        await GoAsync(page, "/findings");
        await page.Locator($"[data-testid=finding-link-{rdp}]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-title]")).ToContainTextAsync("3389/tcp");

        // Two comments: both stay, in order, with their author.
        await page.Locator("[data-testid=finding-comment-text]").FillAsync("RDP facing the internet?");
        await page.Locator("[data-testid=finding-comment-send]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-comment]")).ToHaveCountAsync(1);
        await page.Locator("[data-testid=finding-comment-text]").FillAsync("Yes: the jump host's, asking its owner.");
        await page.Locator("[data-testid=finding-comment-send]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-comment]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("[data-testid=finding-comment]").Nth(0)).ToContainTextAsync("RDP facing the internet?");
        await Assertions.Expect(page.Locator("[data-testid=finding-comment]").Nth(1)).ToContainTextAsync("Yes: the jump host's, asking its owner.");
        await Assertions.Expect(page.Locator("[data-testid=finding-comment]").Nth(1)).ToContainTextAsync("admin");

        // Assigned to a user picked from the list; the grid shows it, and "Assigned to me" is bob's, not admin's.
        await PickAsync(page, "finding-assignee-pick", "bob");
        await page.Locator("[data-testid=finding-assign]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-assignee]")).ToHaveTextAsync("bob");
        await Assertions.Expect(page.Locator("[data-testid=finding-history]")).ToContainTextAsync("assigned to bob by admin");
        await GoAsync(page, "/findings");
        await Assertions.Expect(page.Locator($"[data-testid=assignee-{rdp}]")).ToHaveTextAsync("bob");
        await GoAsync(page, "/findings?quick=Mine");
        await Assertions.Expect(page.Locator($"[data-testid=finding-link-{rdp}]")).ToHaveCountAsync(0);
        await GoAsync(page, "/findings?quick=Unassigned");
        await Assertions.Expect(page.Locator($"[data-testid=finding-link-{rdp}]")).ToHaveCountAsync(0);

        // A Jira ticket, after a confirmation; the stand-in accepts it and the link shows on the finding.
        await GoAsync(page, $"/findings/{rdp}");
        await page.Locator("[data-testid=finding-ticket-jira]").ClickAsync();
        await page.Locator("[data-testid=confirm-ok]").ClickAsync();
        var link = page.Locator("[data-testid=ticket-link]");
        await Assertions.Expect(link).ToHaveTextAsync("SEC-1");
        await Assertions.Expect(link).ToHaveAttributeAsync("href", $"{fixture.Jira.Url}/browse/SEC-1");
        Assert.Empty(Assert.Single(fixture.Jira.Verdicts));
        Assert.Contains("3389/tcp", fixture.Jira.Issues["SEC-1"].GetProperty("summary").GetString());
        await BrowserFixture.SaveScreenshotAsync(page, "50-finding-page");
    }

    [Fact]
    public async Task Resolve_AsksFirstAndTheNoteJoinsTheDiscussion()
    {
        var page = await SignedInPageAsync();
        var snmp = await FindingIdAsync(161);
        await GoAsync(page, $"/findings/{snmp}");

        // One click no longer resolves: the dialog says the port is still open, and Back changes nothing.
        await page.Locator("[data-testid=finding-resolve]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=confirm-dialog]")).ToContainTextAsync("still open");
        await page.Locator("[data-testid=confirm-back]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-status]")).ToHaveTextAsync("Unreviewed");

        await page.Locator("[data-testid=finding-resolve]").ClickAsync();
        await page.Locator("[data-testid=confirm-note]").FillAsync("SNMP closed on the edge firewall");
        await page.Locator("[data-testid=confirm-ok]").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=finding-status]")).ToHaveTextAsync("Resolved");
        await Assertions.Expect(page.Locator("[data-testid=finding-comments]")).ToContainTextAsync("SNMP closed on the edge firewall");
        await Assertions.Expect(page.Locator("[data-testid=finding-history]")).ToContainTextAsync("Unreviewed → Resolved by admin");
    }

    [Fact]
    public async Task ExceptionDialog_MessagesGoOnceTheFieldIsFixed()
    {
        var page = await SignedInPageAsync();
        await GoAsync(page, "/exceptions");
        await page.Locator("[data-testid=exception-add]").ClickAsync();
        await page.Locator("[data-testid=exception-scope-value]").FillAsync("10.9.0.0/33");
        await page.Locator("[data-testid=exception-save]").ClickAsync();
        var error = page.Locator("[data-testid=exception-error]");
        await Assertions.Expect(error).ToContainTextAsync("say why");

        // Typing the reason takes its message away at once; the address is still wrong and still says so.
        await page.Locator("[data-testid=exception-reason]").FillAsync("load balancer health checks");
        await Assertions.Expect(error).Not.ToContainTextAsync("say why");
        await Assertions.Expect(error).ToBeVisibleAsync();
        await page.Locator("[data-testid=exception-scope-value]").FillAsync("");
        await page.Locator("[data-testid=exception-scope-value]").FillAsync("198.51.100.9");
        await Assertions.Expect(error).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Profile_TimeZoneChosen_EveryTimeShowsInIt()
    {
        var page = await SignedInPageAsync();
        var https = await FindingIdAsync(443);
        try
        {
            await GoAsync(page, "/profile");
            await PickAsync(page, "profile-zone", "Asia/Tokyo");
            await page.Locator("[data-testid=profile-save]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=profile-now]")).ToContainTextAsync("+09:00");

            await GoAsync(page, $"/findings/{https}");
            await Assertions.Expect(page.Locator("[data-testid=current-zone]")).ToHaveTextAsync("Asia/Tokyo");
            DateTime firstSeen;
            await using (var db = await fixture.App.CreateDbContextAsync())
                firstSeen = (await db.Findings.SingleAsync(f => f.Id == https)).FirstSeenAt;
            var tokyo = firstSeen.AddHours(9).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
            await Assertions.Expect(page.Locator(".pw-facts").First).ToContainTextAsync($"first {tokyo} +09:00");
        }
        finally
        {
            await using var db = await fixture.App.CreateDbContextAsync();
            await db.Users.Where(u => u.UserName == PortWatchAppFactory.AdminUser).ExecuteUpdateAsync(u => u.SetProperty(x => x.TimeZone, (string?)null));
        }
    }

    [Fact]
    public async Task AuditLog_ShowsEachChangedFieldAsText()
    {
        var page = await SignedInPageAsync();
        await GoAsync(page, "/settings");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Audit log" }).ClickAsync();
        var grid = page.Locator("[data-testid=audit-grid]");
        await Assertions.Expect(grid).ToContainTextAsync("finding.mark-abnormal");
        await Assertions.Expect(grid.Locator("[data-testid=audit-diff]").First).ToBeVisibleAsync();

        var text = await grid.InnerTextAsync();
        Assert.DoesNotContain("\\u0022", text, StringComparison.Ordinal);
        Assert.DoesNotContain("{\"", text, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"Status\s+Unreviewed\s+→\s+Abnormal"), text);
    }

    [Fact]
    public async Task RunningScan_ScansPageAndRunDetail_ShowLiveProgressAndCancelOnlyAfterAsking()
    {
        var page = await SignedInPageAsync();
        // Twenty open ports among 65,535: the first turns up within seconds, so "open so far" has something to count.
        var listeners = Enumerable.Range(0, 20).Select(_ => new LoopbackListener()).ToList();
        try
        {
            await using (var db = await fixture.App.CreateDbContextAsync())
            {
                // Slow on purpose: every port of loopback at 1,500 probes a second takes most of a minute.
                db.ScanProfiles.Add(new ScanProfile { Name = "Slow loopback", TcpPorts = "1-65535", Engine = ScanEngineKind.Connect, ServiceDetection = false, RatePps = 1500, TimeoutMs = 500, Retries = 0 });
                await db.SaveChangesAsync();
            }
            await GoAsync(page, "/scans");
            await page.Locator("[data-testid=scan-targets]").FillAsync("127.0.0.1");
            await PickAsync(page, "scan-profile", "Slow loopback");
            await page.Locator("[data-testid=scan-start]").ClickAsync();
            var runId = await Eventually.WaitAsync(async () =>
            {
                await using var db = await fixture.App.CreateDbContextAsync();
                return await db.ScanRuns.Where(r => r.ScanProfile!.Name == "Slow loopback").Select(r => (long?)r.Id).FirstOrDefaultAsync();
            }, id => id is not null);

            // The Scans page at 1366 px: the open count moves while the run goes, the progress text is whole, Cancel is on screen.
            await Assertions.Expect(page.Locator($"[data-testid=run-open-{runId}]")).Not.ToHaveTextAsync("0", new() { Timeout = 30_000 });
            var progress = page.Locator($"[data-testid=run-progress-{runId}]");
            await Assertions.Expect(progress).ToContainTextAsync("left");
            Assert.True(await progress.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right <= document.documentElement.clientWidth"),
                "the progress text is cut or off screen");
            var cancel = await page.Locator($"[data-testid=run-cancel-{runId}]").BoundingBoxAsync();
            Assert.True(cancel is not null && cancel.X + cancel.Width <= 1366, $"Cancel ends at x={cancel?.X + cancel?.Width}");
            await BrowserFixture.SaveScreenshotAsync(page, "52-scans-running");

            // The run's own page is live too: phase, bar, numbers that move, time left.
            await page.Locator($"[data-testid=run-link-{runId}]").ClickAsync();
            var live = page.Locator("[data-testid=run-live]");
            await Assertions.Expect(live.Locator("[data-testid=run-live-text]")).ToContainTextAsync("probes sent", new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("[data-testid=run-step-Discovery]")).ToHaveAttributeAsync("aria-current", "step");
            await Assertions.Expect(live.Locator("[data-testid=run-live-open]")).Not.ToHaveTextAsync("0");
            var first = await live.Locator("[data-testid=run-live-text]").InnerTextAsync();
            await Assertions.Expect(live.Locator("[data-testid=run-live-text]")).Not.ToHaveTextAsync(first);
            await Assertions.Expect(live.Locator("[data-testid=run-live-text]")).ToContainTextAsync("left");
            await BrowserFixture.SaveScreenshotAsync(page, "51-run-live");

            await page.Locator("[data-testid=run-cancel]").ClickAsync();
            await page.Locator("[data-testid=confirm-back]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=run-status]")).ToHaveTextAsync("Running");
            await page.Locator("[data-testid=run-cancel]").ClickAsync();
            await page.Locator("[data-testid=confirm-ok]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-testid=run-status]")).ToHaveTextAsync("Cancelled", new() { Timeout = 30_000 });
            await Assertions.Expect(live).ToHaveCountAsync(0);
        }
        finally
        {
            listeners.ForEach(l => l.Dispose());
        }
    }

    [Fact]
    public async Task Overview_TrendOfSeveralDays_NamesEachDayOnce()
    {
        var page = await SignedInPageAsync();
        await using (var db = await fixture.App.CreateDbContextAsync())
        {
            var today = DateTime.UtcNow.Date;
            foreach (var daysAgo in new[] { 3, 2, 1 })
            {
                if (!await db.TrendSnapshots.AnyAsync(t => t.Day == today.AddDays(-daysAgo)))
                    db.TrendSnapshots.Add(new TrendSnapshot { Day = today.AddDays(-daysAgo), Open = 4 - daysAgo, Abnormal = 1, HighRisk = 1, Unreviewed = 2, RecordedAt = today.AddDays(-daysAgo) });
            }
            await db.SaveChangesAsync();
        }
        await GoAsync(page, "/");
        var labels = page.Locator("[data-testid=trend-chart] g.rz-category-axis .rz-tick-text");
        await Assertions.Expect(labels.First).ToBeVisibleAsync();

        var texts = (await labels.AllTextContentsAsync()).Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        Assert.True(texts.Count >= 4, string.Join(" | ", texts));
        Assert.Equal(texts.Count, texts.Distinct().Count());
    }
}
