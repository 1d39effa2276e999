using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;

namespace PortWatch.BrowserTests;

public class ScanBrowserTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture fixture;

    public ScanBrowserTests(BrowserFixture fixture) => this.fixture = fixture;

    [Fact]
    public async Task ScanNow_LoopbackListener_ShowsTheRunCompletingWithoutReload()
    {
        using var listener = new LoopbackListener();
        var port = listener.Port;
        await using (var db = await fixture.App.CreateDbContextAsync())
        {
            // The page preselects the "Quick" profile; point it at our listener with the connect engine.
            var quick = await db.ScanProfiles.SingleAsync(p => p.Name == "Quick");
            quick.TcpPorts = $"{port}";
            quick.Engine = ScanEngineKind.Connect;
            quick.ServiceDetection = false;
            await db.SaveChangesAsync();
        }
        var page = await fixture.NewPageAsync();
        var problems = BrowserFixture.CollectProblems(page);
        await BrowserFixture.SignInAsAdminAsync(page);

        await page.GotoAsync("/scans");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=scan-targets]").FillAsync("127.0.0.1");
        await page.Locator("[data-testid=scan-start]").ClickAsync();

        var status = page.Locator("[data-testid^=run-status-]").First;
        await Assertions.Expect(status).ToHaveTextAsync("Completed", new() { Timeout = 30_000 });
        await BrowserFixture.SaveScreenshotAsync(page, "04-scans");
        Assert.Empty(problems);
    }

    [Fact]
    public async Task ScanNow_TargetOutsideScopeOrBad_ShowsTheReason()
    {
        var page = await fixture.NewPageAsync();
        await BrowserFixture.SignInAsAdminAsync(page);

        await page.GotoAsync("/scans");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.Locator("[data-testid=scan-targets]").FillAsync("10.0.0.0/33");
        await page.Locator("[data-testid=scan-start]").ClickAsync();

        await Assertions.Expect(page.Locator("[data-testid=scan-error]")).ToHaveTextAsync(new Regex("prefix length must be 0 to 32"));

        // The message was about what the field held; once it is cleared the message goes (it stayed before).
        await page.Locator("[data-testid=scan-targets]").FillAsync("");
        await Assertions.Expect(page.Locator("[data-testid=scan-error]")).ToHaveCountAsync(0);
    }
}
