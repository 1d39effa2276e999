using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Security;

/// <summary>Sign-in tells an attacker nothing about which users exist, and failed passwords cannot switch off anyone's tokens.</summary>
public sealed class SignInHardeningTests : IDisposable
{
    private readonly CountingHasher hasher = new();
    private readonly PortWatchAppFactory app;

    public SignInHardeningTests()
    {
        app = PortWatchAppFactory.Create();
        app.TestServices = services => services.AddSingleton<IPasswordHasher<PortWatchUser>>(hasher);
    }

    public void Dispose() => app.Dispose();

    private async Task<(string Message, TimeSpan Took)> FailAsync(string userName, string password)
    {
        using var client = app.CreateNonRedirectingClient();
        var started = Stopwatch.GetTimestamp();
        using var response = await PortWatchAppFactory.SignInAsync(client, userName, password);
        var took = Stopwatch.GetElapsedTime(started);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        return (WebUtility.HtmlDecode(Regex.Match(html, "data-testid=\"login-error\">([^<]*)<").Groups[1].Value), took);
    }

    [Fact]
    public async Task SignIn_UnknownUserAndWrongPassword_SameMessageSameWork()
    {
        await app.CreateUserAsync("known-user", Roles.Viewer);
        var hashesBefore = hasher.Verifications;

        var unknown = await FailAsync("no-such-user", "Whatever-Password-1");
        var afterUnknown = hasher.Verifications;
        var known = await FailAsync("known-user", "Whatever-Password-1");

        Assert.Equal(PasswordSignIn.FailureMessage, unknown.Message);
        Assert.Equal(unknown.Message, known.Message);
        Assert.Equal(1, afterUnknown - hashesBefore); // a decoy hash is verified for a name that does not exist
        Assert.Equal(1, hasher.Verifications - afterUnknown);
        // Both answers wait out the same floor, so neither is quick enough to tell them apart.
        Assert.True(unknown.Took >= TimeSpan.FromMilliseconds(390), $"unknown user answered in {unknown.Took.TotalMilliseconds} ms");
        Assert.True(known.Took >= TimeSpan.FromMilliseconds(390), $"known user answered in {known.Took.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task SignIn_AccountThrottledByBadPasswords_SaysNothingAboutALock()
    {
        await app.CreateUserAsync("guessed-user", Roles.Viewer);
        for (var i = 0; i < 5; i++)
            await FailAsync("guessed-user", $"Bad-Password-{i}x");

        var withRightPassword = await FailAsync("guessed-user", PortWatchAppFactory.UserPassword);

        Assert.Equal(PasswordSignIn.FailureMessage, withRightPassword.Message);
        Assert.DoesNotContain("locked", withRightPassword.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ApiToken_OwnerFailsFivePasswords_KeepsWorking()
    {
        var token = await app.CreateApiTokenAsync("token-owner", Roles.Analyst);
        for (var i = 0; i < 6; i++)
            await FailAsync("token-owner", $"Bad-Password-{i}x");
        using var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await client.GetAsync("/api/v1/findings");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_NonAsciiReturnUrl_SignsInAndRedirectsEncoded()
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await PortWatchAppFactory.SignInAsync(client, PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword, "?ReturnUrl=%2F%E3%80%82x");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.EndsWith("/%E3%80%82x", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        using var signedIn = await client.GetAsync("/api/v1/findings");
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
    }

    [Theory]
    [InlineData("/findings?search=a%20b", "/findings?search=a%20b")]
    [InlineData("/x y", "/x%20y")]
    [InlineData("//evil.example", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("/\u3002x", "/%E3%80%82x")]
    [InlineData("/a\r\nSet-Cookie: x", "/")]
    public void SafeReturnUrl_HostileOrNonAscii_IsLocalAndAscii(string returnUrl, string expected)
    {
        Assert.Equal(expected, PortWatch.Web.Identity.IdentityServiceCollectionExtensions.SafeReturnUrl(returnUrl));
    }

    /// <summary>The real hasher, counting verifications.</summary>
    private sealed class CountingHasher : IPasswordHasher<PortWatchUser>
    {
        private readonly PasswordHasher<PortWatchUser> inner = new();
        private int verifications;

        public int Verifications => Volatile.Read(ref verifications);

        public string HashPassword(PortWatchUser user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(PortWatchUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref verifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}

/// <summary>Password guessing from one address is throttled whichever accounts it tries.</summary>
public sealed class SignInThrottleTests : IDisposable
{
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
    {
        ["Sessions:SignInAttemptsPerMinute"] = "3",
        ["Sessions:FailedSignInMinimumMilliseconds"] = "0",
    });

    public void Dispose() => app.Dispose();

    [Fact]
    public async Task SignIn_MoreAttemptsThanTheLimitFromOneAddress_AreRefusedWith429()
    {
        using var client = app.CreateNonRedirectingClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await PortWatchAppFactory.SignInAsync(client, $"user{i}", "Wrong-Password-1");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        using var page = await client.GetAsync("/account/login");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode); // only attempts count, not the form
    }
}
