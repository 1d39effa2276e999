using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using PortWatch.Tests.Shared;

namespace PortWatch.BrowserTests;

public class SignInBrowserTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture fixture;

    public SignInBrowserTests(BrowserFixture fixture) => this.fixture = fixture;

    [Fact]
    public async Task SignIn_AdminThroughLoginForm_SeesInteractiveOverview()
    {
        var page = await fixture.NewPageAsync();
        var problems = BrowserFixture.CollectProblems(page);

        await page.GotoAsync("/");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await BrowserFixture.SaveScreenshotAsync(page, "01-login");
        await page.FillAsync("#username", PortWatchAppFactory.AdminUser);
        await page.FillAsync("#password", PortWatchAppFactory.AdminPassword);
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=count-assets]")).ToHaveTextAsync("0");
        await Assertions.Expect(page.Locator("[data-testid=current-user]")).ToHaveTextAsync(PortWatchAppFactory.AdminUser);
        await BrowserFixture.SaveScreenshotAsync(page, "02-overview");

        // Proves the Blazor circuit (blazor.web.js from the 9.0.22 pack) is live: the theme toggle runs on the server.
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        var theme = page.Locator("#radzen-theme-link");
        var before = await theme.GetAttributeAsync("href");
        await page.Locator(".rz-appearance-toggle, button[title='Light or dark theme']").First.ClickAsync();
        await Assertions.Expect(theme).Not.ToHaveAttributeAsync("href", before!);
        await BrowserFixture.SaveScreenshotAsync(page, "03-overview-dark");
        Assert.Empty(problems);
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsMessageOnLoginPage()
    {
        var page = await fixture.NewPageAsync();

        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", PortWatchAppFactory.AdminUser);
        await page.FillAsync("#password", "wrong-password-1");
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.Locator("[data-testid=login-error]")).ToContainTextAsync("Wrong user name or password.");
    }

    [Fact]
    public async Task OpenDashboard_UserLockedByAdmin_CircuitEndsAtTheLoginPage()
    {
        await fixture.App.CreateUserAsync("circuit-analyst", PortWatch.Web.Identity.Roles.Analyst);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/account/login");
        await page.FillAsync("#username", "circuit-analyst");
        await page.FillAsync("#password", PortWatchAppFactory.UserPassword);
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();
        await page.GotoAsync("/findings");
        await Assertions.Expect(page.Locator("[data-circuit=live]")).ToBeVisibleAsync();

        await using (var scope = fixture.App.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<PortWatch.Web.Identity.UserAdminService>().SetLockedAsync("circuit-analyst", true, PortWatchAppFactory.AdminUser);

        // The fixture revalidates every 2 s: the open page goes to the login page by itself, and stays there.
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/login"), new() { Timeout = 15_000 });
        await page.GotoAsync("/findings");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/account/login"));
    }
}
