using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Security;

/// <summary>
/// A user who loses access loses it on every channel within the revalidation interval (1 s here):
/// an old cookie of a demoted, locked, deleted or reset user, and a locked user's API token at once.
/// </summary>
public sealed class SessionRevocationTests : IDisposable
{
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Sessions:RevalidationSeconds"] = "1" });

    public void Dispose() => app.Dispose();

    private async Task<(HttpClient Client, string Name)> SignedInAnalystAsync()
    {
        var name = $"analyst{Guid.NewGuid():N}"[..16];
        await app.CreateUserAsync(name, Roles.Analyst);
        var client = await app.CreateSignedInClientAsync(name, PortWatchAppFactory.UserPassword);
        using var allowed = await client.SendAsync(DashboardRequests.ProfileChange());
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        return (client, name);
    }

    private async Task AsAdminAsync(Func<UserAdminService, Task> action)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<UserAdminService>());
    }

    private static Task<HttpStatusCode> StatusAsync(HttpClient client, Func<HttpRequestMessage> request) =>
        Eventually.WaitAsync(async () => { using var r = await client.SendAsync(request()); return r.StatusCode; }, s => s is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized);

    [Fact]
    public async Task OldCookie_UserDemotedToViewer_LosesWriteAccessWithinTheInterval()
    {
        var (client, name) = await SignedInAnalystAsync();

        await AsAdminAsync(a => a.SetRoleAsync(name, Roles.Viewer, PortWatchAppFactory.AdminUser));

        // The changed stamp ends the old session; signed in again, the user is a Viewer.
        Assert.Contains(await StatusAsync(client, DashboardRequests.ProfileChange), new[] { HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden });
        using var again = await app.CreateSignedInClientAsync(name, PortWatchAppFactory.UserPassword);
        using var write = await again.SendAsync(DashboardRequests.ProfileChange());
        using var read = await again.GetAsync("/api/v1/findings");
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Theory]
    [InlineData("lock")]
    [InlineData("delete")]
    [InlineData("password")]
    public async Task OldCookie_UserLockedDeletedOrReset_IsRefused(string change)
    {
        var (client, name) = await SignedInAnalystAsync();

        await AsAdminAsync(a => change switch
        {
            "lock" => a.SetLockedAsync(name, true, PortWatchAppFactory.AdminUser),
            "delete" => a.DeleteAsync(name, PortWatchAppFactory.AdminUser),
            _ => a.ResetPasswordAsync(name, "A-New-Password-9", PortWatchAppFactory.AdminUser),
        });

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, () => new HttpRequestMessage(HttpMethod.Get, "/api/v1/findings")));
        using var page = await client.GetAsync("/findings");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/account/login", page.Headers.Location!.OriginalString.Replace("http://localhost", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiToken_OwnerLockedByAdmin_IsRefusedAtOnce()
    {
        var token = await app.CreateApiTokenAsync("locked-bot", Roles.Analyst);
        using var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using (var before = await client.GetAsync("/api/v1/findings"))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await AsAdminAsync(a => a.SetLockedAsync("locked-bot", true, PortWatchAppFactory.AdminUser));

        using var after = await client.GetAsync("/api/v1/findings");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task ApiToken_OwnerDemoted_LosesWriteAccessAtOnce()
    {
        var token = await app.CreateApiTokenAsync("demoted-bot", Roles.Analyst);
        using var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        await AsAdminAsync(a => a.SetRoleAsync("demoted-bot", Roles.Viewer, PortWatchAppFactory.AdminUser));

        using var write = await client.PostAsJsonAsync("/api/v1/profiles", new { name = "demoted-profile", tcpPorts = "80" });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }
}

/// <summary>However active, a session ends at the absolute lifetime.</summary>
public sealed class AbsoluteLifetimeTests : IDisposable
{
    private readonly ShiftedClock clock = new();
    private readonly PortWatchAppFactory app;

    public AbsoluteLifetimeTests()
    {
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Sessions:AbsoluteLifetimeHours"] = "1",
            ["Sessions:SlidingExpirationHours"] = "720",
        });
        app.TestServices = services => services.AddSingleton<TimeProvider>(clock);
    }

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task Cookie_PastTheAbsoluteLifetime_IsRefusedThoughStillSliding()
    {
        using var client = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);
        using (var fresh = await client.GetAsync("/api/v1/findings"))
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);

        clock.Offset = TimeSpan.FromMinutes(61);

        using var late = await client.GetAsync("/api/v1/findings");
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
    }

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
