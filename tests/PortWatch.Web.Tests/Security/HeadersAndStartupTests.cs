using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Http;

namespace PortWatch.Web.Tests.Security;

/// <summary>Every response carries the browser-side protections; cookies are as strict as the dashboard allows.</summary>
public sealed class SecurityHeadersTests : IClassFixture<PortWatchAppFactory>
{
    private readonly PortWatchAppFactory app;

    public SecurityHeadersTests(PortWatchAppFactory app) => this.app = app;

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/api/docs/index.html")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/health")]
    [InlineData("/api/v1/findings")]
    [InlineData("/findings")]
    public async Task Response_AnyPath_CarriesCspNoFramingNoSniffAndSameOriginReferrer(string path)
    {
        using var client = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);

        using var response = await client.GetAsync(path);

        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
        var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline'; img", csp.Split("script-src")[1].Split(';')[0] + "; img", StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task SignIn_OverHttp_AuthCookieIsHttpOnlyAndStrict()
    {
        using var client = app.CreateNonRedirectingClient();

        using var response = await PortWatchAppFactory.SignInAsync(client, PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PortWatch.Auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie.Replace("samesite", "", StringComparison.OrdinalIgnoreCase), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_OverHttps_CookieIsSecureAndHstsIsSent()
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://portwatch.example"), AllowAutoRedirect = false });

        using var response = await PortWatchAppFactory.SignInAsync(client, PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);

        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PortWatch.Auth=", StringComparison.Ordinal));
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
    }
}

/// <summary>Behind a TLS proxy that the operator names, the dashboard knows it is served over HTTPS.</summary>
public sealed class ReverseProxyTests : IDisposable
{
    private readonly KestrelHost app = new(new Dictionary<string, string?> { ["Http:KnownProxies:0"] = "127.0.0.1" });

    public void Dispose() => app.Dispose();

    /// <summary>Signs in as a proxy would forward it; cookies are carried by hand, since a Secure cookie is never sent back over plain HTTP.</summary>
    private static async Task<HttpResponseMessage> SignInForwardedAsync(KestrelHost host)
    {
        using var client = host.CreateHttpClient();
        using var get = new HttpRequestMessage(HttpMethod.Get, "/account/login");
        get.Headers.Add("X-Forwarded-Proto", "https");
        using var form = await client.SendAsync(get);
        var html = await form.Content.ReadAsStringAsync();
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var cookies = string.Join("; ", form.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var post = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "login",
                ["__RequestVerificationToken"] = token,
                ["Input.UserName"] = PortWatchAppFactory.AdminUser,
                ["Input.Password"] = PortWatchAppFactory.AdminPassword,
            }),
        };
        post.Headers.Add("X-Forwarded-Proto", "https");
        post.Headers.Add("Cookie", cookies);
        return await client.SendAsync(post);
    }

    [Fact]
    public async Task SignIn_ThroughAKnownProxyWithForwardedHttps_CookieIsSecure()
    {
        using var response = await SignInForwardedAsync(app);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PortWatch.Auth=", StringComparison.Ordinal));
        Assert.Contains("; secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_ForwardedHeaderFromAnUnknownAddress_IsIgnored()
    {
        using var other = new KestrelHost(new Dictionary<string, string?> { ["Http:KnownProxies:0"] = "192.0.2.1" });

        using var response = await SignInForwardedAsync(other);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("PortWatch.Auth=", StringComparison.Ordinal));
        Assert.DoesNotContain("; secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>PortWatch on a real socket, so the client's address is the proxy's.</summary>
    private sealed class KestrelHost : IDisposable
    {
        private readonly PortWatchAppFactory factory;

        public KestrelHost(Dictionary<string, string?> settings)
        {
            factory = PortWatchAppFactory.Create(settings: settings);
            factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
        }

        public HttpClient CreateHttpClient()
        {
            var address = factory.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();
            return new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(address) };
        }

        public void Dispose() => factory.Dispose();
    }
}

/// <summary>Listen addresses that Kestrel would misread stop start-up with one line.</summary>
public sealed class ListenUrlsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5080", null)]
    [InlineData("http://*:5080", null)]
    [InlineData("http://+:80", null)]
    [InlineData("https://[::1]:8443", null)]
    [InlineData("http://portwatch.example", null)]
    [InlineData("http://127.0.0.1:notaport", "the port 'notaport' is not a number from 0 to 65535")]
    [InlineData("http://127.0.0.1:70000", "the port '70000' is not a number from 0 to 65535")]
    [InlineData("127.0.0.1:5080", "it has no scheme (http:// or https://)")]
    [InlineData("ftp://127.0.0.1:21", "the scheme 'ftp' is not http or https")]
    [InlineData("http://[::1:5080", "the IPv6 address has no closing ']'")]
    [InlineData("http://:5080", "the host is empty")]
    public void Error_ListenUrl_NamesWhatIsWrong(string url, string? error)
    {
        Assert.Equal(error, ListenUrls.Error(url));
    }

    [Fact]
    public async Task Start_MalformedUrls_ExitsWithOneLineAndListensNowhere()
    {
        var (exitCode, stdout, stderr) = await RunHostAsync("http://127.0.0.1:notaport", new Dictionary<string, string>());

        Assert.Equal(1, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("PortWatch cannot start: Urls: 'http://127.0.0.1:notaport' is not an address to listen on: the port 'notaport' is not a number from 0 to 65535. Use e.g. http://127.0.0.1:5080 or http://*:5080.", Assert.Single(lines).TrimEnd('\r'));
        Assert.DoesNotContain("Now listening", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadSessionSetting_ExitsNamingTheSetting()
    {
        var (exitCode, _, stderr) = await RunHostAsync("http://127.0.0.1:0", new Dictionary<string, string>
        {
            ["Admin__Password"] = "Admin-Password-1",
            ["Sessions__RevalidationSeconds"] = "0",
        });

        Assert.Equal(1, exitCode);
        Assert.Contains("PortWatch cannot start: Sessions:RevalidationSeconds must be 1 to 3600 (default 60).", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_BadScanningAndAlertSettings_ExitsWithOneLinePerBadValue()
    {
        var (exitCode, stdout, stderr) = await RunHostAsync("http://127.0.0.1:0", new Dictionary<string, string>
        {
            ["Admin__Password"] = "Admin-Password-1",
            ["Scanning__SourcePort"] = "70000",          // was cast to ushort: 4464, inside the ephemeral range
            ["Scanning__MaxTotalRatePps"] = "0",         // made the rate budget wait forever
            ["Scanning__AllowedScope__0"] = "10.0.0.0/33",
            ["Alerts__FlapRequiredRuns"] = "3",
            ["Alerts__FlapWindowRuns"] = "2",
            ["Imports__MaxFileMegabytes"] = "-1",
            ["Tickets__JiraUrl"] = "jira.example.test",
        });

        Assert.Equal(1, exitCode);
        foreach (var expected in new[]
        {
            "PortWatch cannot start: Scanning:SourcePort must be 1024 to 65535, outside the ephemeral range (default 61000).",
            "PortWatch cannot start: Scanning:MaxTotalRatePps must be 1 to 100000000 packets a second (default 50000).",
            "PortWatch cannot start: Alerts:FlapRequiredRuns (3) cannot be more than Alerts:FlapWindowRuns (2).",
            "PortWatch cannot start: Imports:MaxFileMegabytes must be 1 to 4096 (default 50).",
            "PortWatch cannot start: Tickets:JiraUrl must be an absolute http(s) address, not 'jira.example.test'.",
            "PortWatch cannot start: Tickets:JiraProject must name the project new issues go to (its key, e.g. SEC) when Tickets:JiraUrl is set.",
        })
        {
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
        }
        Assert.Contains("PortWatch cannot start: Scanning:AllowedScope has '10.0.0.0/33'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // no stack trace
        Assert.DoesNotContain("Now listening", stdout, StringComparison.Ordinal);
    }

    /// <summary>Runs the web host's build as a process on a fresh data directory until it exits (a minute at most).</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunHostAsync(string urls, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [WebAssembly(), "--urls", urls])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(WebAssembly())!,
        };
        var data = Path.Combine(Path.GetTempPath(), $"portwatch-start-{Guid.NewGuid():N}");
        start.Environment["PortWatch__DataDirectory"] = data;
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string WebAssembly() => PortWatchAppFactory.WebAssemblyPath();
}
