using System.Net;
using System.Text.RegularExpressions;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Http;

public class SignInTests : IClassFixture<PortWatchAppFactory>
{
    private readonly PortWatchAppFactory app;

    public SignInTests(PortWatchAppFactory app) => this.app = app;

    [Theory]
    [InlineData("/")]
    [InlineData("/findings")]
    [InlineData("/settings")]
    public async Task Get_Anonymous_RedirectsToLoginWithReturnUrl(string path)
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/account/login?ReturnUrl={Uri.EscapeDataString(path)}", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Health_Anonymous_ReportsHealthyDatabase()
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsErrorAndSetsNoCookie()
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await PortWatchAppFactory.SignInAsync(client, PortWatchAppFactory.AdminUser, "not-the-password");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Wrong user name or password.", html, StringComparison.Ordinal);
        using var overview = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, overview.StatusCode);
    }

    [Fact]
    public async Task SignIn_OffSiteReturnUrl_LandsOnOverviewInstead()
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await PortWatchAppFactory.SignInAsync(client, PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword, "?returnUrl=//evil.example/phish");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Overview_SignedInViewer_ShowsCountsFromTheDatabase()
    {
        await using (var db = await app.CreateDbContextAsync())
        {
            var now = DateTime.UtcNow;
            for (var i = 1; i <= 3; i++)
            {
                var asset = new Asset { Name = $"overview-{i}", Target = "", RangeStart = "", RangeEnd = "", CreatedAt = now, UpdatedAt = now };
                asset.SetRange(PortWatch.Scanning.Targets.IpRange.Parse($"192.0.2.{i}"));
                db.Assets.Add(asset);
            }
            db.Findings.AddRange(
                Finding("192.0.2.1", 22, PortState.Open, TriageStatus.Expected),
                Finding("192.0.2.1", 6379, PortState.Open, TriageStatus.Abnormal),
                Finding("192.0.2.2", 3389, PortState.Closed, TriageStatus.Unreviewed),
                Finding("192.0.2.3", 443, PortState.Open, TriageStatus.Resolved));
            db.ScanRuns.Add(new ScanRun { Status = ScanRunStatus.Completed, TargetSpec = "192.0.2.0/29", CreatedAt = now, FinishedAt = now });
            await db.SaveChangesAsync();
        }
        await app.CreateUserAsync("viewer-overview", Roles.Viewer);
        using var client = await app.CreateSignedInClientAsync("viewer-overview", PortWatchAppFactory.UserPassword);

        var html = await client.GetStringAsync("/");

        Assert.Equal("3", Count(html, "count-assets"));
        // Resolved but still open is still an exposure; a closed port waiting for review is not an open one.
        Assert.Equal("3", Count(html, "count-open"));
        Assert.Equal("0", Count(html, "count-unreviewed"));
        Assert.Equal("1", Count(html, "count-abnormal"));
        Assert.Contains("Completed", html, StringComparison.Ordinal);
        Assert.Contains("viewer-overview", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunDetail_ImportedRun_SaysWhichFileAndToolAndNoProfile()
    {
        long runId;
        await using (var db = await app.CreateDbContextAsync())
        {
            var now = DateTime.UtcNow;
            var run = new ScanRun
            {
                Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Import, RequestedBy = "analyst-7", TargetSpec = "192.0.2.9",
                CreatedAt = now, StartedAt = now.AddHours(-2), FinishedAt = now.AddHours(-1), ScannedTcpPorts = "1-1024",
                Notes = "imported from weekly.xml (nmap output)\nopen ports only: an import closes nothing unless asked to",
            };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }
        await app.CreateUserAsync("viewer-import", Roles.Viewer);
        using var client = await app.CreateSignedInClientAsync("viewer-import", PortWatchAppFactory.UserPassword);

        var html = System.Net.WebUtility.HtmlDecode(await client.GetStringAsync($"/scans/{runId}"));

        Assert.Contains("imported from weekly.xml (nmap output), by analyst-7", html, StringComparison.Ordinal);
        Assert.Contains("scanned by the tool from", html, StringComparison.Ordinal);
        Assert.DoesNotContain(", TCP", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAddress_SignedIn_IsPortWatchsOwnNotFoundPageWithStatus404()
    {
        await app.CreateUserAsync("viewer-404", Roles.Viewer);
        using var client = await app.CreateSignedInClientAsync("viewer-404", PortWatchAppFactory.UserPassword);

        var response = await client.GetAsync("/no-such-page/at-all");
        var api = await client.GetAsync("/api/v1/no-such-endpoint");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Page not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, api.StatusCode);
        Assert.DoesNotContain("Page not found", await api.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssetsAndSchedules_YesNoColumns_SayYesOrNoNotTrueOrFalse()
    {
        // A dashboard of its own: the Overview test counts the shared one's assets.
        using var app = new PortWatchAppFactory();
        await using (var db = await app.CreateDbContextAsync())
        {
            var now = DateTime.UtcNow;
            var asset = new Asset { Name = "booleans", Target = "", RangeStart = "", RangeEnd = "", Enabled = true, CreatedAt = now, UpdatedAt = now };
            asset.SetRange(PortWatch.Scanning.Targets.IpRange.Parse("192.0.2.77"));
            db.Assets.Add(asset);
            await db.SaveChangesAsync();
        }
        await app.CreateUserAsync("viewer-booleans", Roles.Viewer);
        using var client = await app.CreateSignedInClientAsync("viewer-booleans", PortWatchAppFactory.UserPassword);

        foreach (var page in new[] { "/assets", "/schedules" })
        {
            var html = await client.GetStringAsync(page);

            Assert.DoesNotMatch(@">\s*(True|False)\s*<", html);
        }
    }

    [Fact]
    public async Task Settings_Viewer_IsRefused()
    {
        await app.CreateUserAsync("viewer-settings", Roles.Viewer);
        using var client = await app.CreateSignedInClientAsync("viewer-settings", PortWatchAppFactory.UserPassword);

        using var response = await client.GetAsync("/settings");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/access-denied", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_Admin_SeesUsersAndRiskCatalogue()
    {
        using var client = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);

        using var response = await client.GetAsync("/settings");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Users and roles", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_SignedInUser_EndsTheSession()
    {
        await app.CreateUserAsync("analyst-signout", Roles.Analyst);
        using var client = await app.CreateSignedInClientAsync("analyst-signout", PortWatchAppFactory.UserPassword);
        var page = await client.GetStringAsync("/");
        var token = Regex.Match(page, "action=\"/account/logout\"[^>]*>\\s*<input type=\"hidden\" name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);

        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token });
        using var logout = await client.PostAsync("/account/logout", content);
        using var after = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/account/login", after.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    private static Finding Finding(string address, int port, PortState state, TriageStatus status)
    {
        var now = DateTime.UtcNow;
        return new Finding
        {
            Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, CurrentState = state, Status = status,
            FirstSeenAt = now, LastSeenAt = now, UpdatedAt = now,
        };
    }

    private static string Count(string html, string testId) =>
        Regex.Match(html, $"data-testid=\"{testId}\"[^>]*>\\s*([^<\\s]+)\\s*<").Groups[1].Value;
}
