using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Web.Data;
using PortWatch.Web.Identity;

namespace PortWatch.Tests.Shared;

/// <summary>
/// The real PortWatch host on a fresh SQLite database in its own temporary data directory,
/// with a known administrator password.
/// </summary>
public class PortWatchAppFactory : WebApplicationFactory<Program>
{
    // xunit wants exactly one public constructor on a class fixture; the others go through Create.
    public PortWatchAppFactory()
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "portwatch-tests", Guid.NewGuid().ToString("N"));
        Settings = new Dictionary<string, string?>();
    }

    /// <param name="dataDirectory">An existing data directory to start on (a restart); null for a fresh one.</param>
    /// <param name="settings">Extra configuration, e.g. "Scanning:AllowedScope:0".</param>
    public static PortWatchAppFactory Create(string? dataDirectory = null, IDictionary<string, string?>? settings = null)
    {
        var factory = new PortWatchAppFactory();
        if (dataDirectory is not null)
            factory.DataDirectory = dataDirectory;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            factory.Settings[key] = value;
        return factory;
    }

    /// <summary>Leave the data directory behind on dispose, for a test that starts the app again on it.</summary>
    public bool KeepDataDirectory { get; set; }

    public IDictionary<string, string?> Settings { get; }

    /// <summary>Service replacements applied after the app's own registrations (a shifted clock, a counting hasher).</summary>
    public Action<IServiceCollection>? TestServices { get; set; }

    public const string AdminUser = "admin";
    public const string AdminPassword = "Admin-Password-1";
    public const string UserPassword = "User-Password-1";

    public string DataDirectory { get; private set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Package assets (_content/Radzen.Blazor/...) are mapped from the NuGet cache only in Development unless asked.
        builder.UseStaticWebAssets();
        builder.UseSetting("PortWatch:DataDirectory", DataDirectory);
        builder.UseSetting("Admin:UserName", AdminUser);
        builder.UseSetting("Admin:Password", AdminPassword);
        // Test targets are loopback listeners, which are this machine's own addresses; tests of the exclusion set it back.
        builder.UseSetting("Scanning:ExcludeScannerAddresses", "false");
        // Webhook and Jira stand-ins listen on loopback, which the webhook policy refuses unless allowed; the SSRF tests clear this.
        builder.UseSetting("Alerts:AllowedWebhookHosts:0", "127.0.0.1");
        // Many tests sign in from the same address within a minute; the throttle's own test sets a low limit.
        builder.UseSetting("Sessions:SignInAttemptsPerMinute", "10000");
        // Sentinel passes every few minutes would add runs and findings to tests that count them; its own tests start passes themselves.
        builder.UseSetting("Sentinel:Enabled", "false");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
        if (TestServices is { } configure)
            builder.ConfigureTestServices(configure);
    }

    public HttpClient CreateNonRedirectingClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public async Task<PortWatchDbContext> CreateDbContextAsync()
    {
        _ = Services; // starts the host (and so migrates the database) if it is not running yet
        return await Services.GetRequiredService<IDbContextFactory<PortWatchDbContext>>().CreateDbContextAsync();
    }

    public async Task CreateUserAsync(string userName, string role)
    {
        _ = Services;
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortWatchUser>>();
        var user = new PortWatchUser { UserName = userName, Email = $"{userName}@example.test", CreatedAt = DateTime.UtcNow };
        var created = await users.CreateAsync(user, UserPassword);
        if (!created.Succeeded)
            throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
        await users.AddToRoleAsync(user, role);
    }

    /// <summary>An API token for the user (created with the role if it does not exist yet).</summary>
    public async Task<string> CreateApiTokenAsync(string userName, string role)
    {
        _ = Services;
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortWatchUser>>();
        if (await users.FindByNameAsync(userName) is null)
            await CreateUserAsync(userName, role);
        var user = await users.FindByNameAsync(userName);
        var (token, _) = await scope.ServiceProvider.GetRequiredService<PortWatch.Web.Api.ApiTokenService>().CreateAsync(user!.Id, userName, $"test {Guid.NewGuid():N}", null);
        return token;
    }

    /// <summary>The web host's own build (tests/X/bin/Configuration/net10.0 → src/PortWatch.Web/bin/Configuration/net10.0), for tests that start it as a process.</summary>
    /// <summary>A non-redirecting client that sends a new API token of this user (created with the role if missing).</summary>
    public async Task<HttpClient> CreateTokenClientAsync(string userName, string role)
    {
        var client = CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await CreateApiTokenAsync(userName, role));
        return client;
    }

    public static string WebAssemblyPath()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Dashboard.sln")))
            root = root.Parent;
        return Path.Combine(root!.FullName, "src", "PortWatch.Web", "bin", configuration, "net10.0", "PortWatch.Web.dll");
    }

    /// <summary>Signs in through the real login form (antiforgery token included) and returns the response to the post.</summary>
    /// <param name="query">Appended to the form's address, e.g. "?ReturnUrl=...".</param>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient client, string userName, string password, string query = "")
    {
        var form = await client.GetStringAsync("/account/login");
        var token = Regex.Match(form, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        using var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login",
            ["__RequestVerificationToken"] = token,
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
        });
        return await client.PostAsync("/account/login" + query, content);
    }

    public async Task<HttpClient> CreateSignedInClientAsync(string userName, string password)
    {
        var client = CreateNonRedirectingClient();
        var response = await SignInAsync(client, userName, password);
        if (response.StatusCode != HttpStatusCode.Redirect)
            throw new InvalidOperationException($"sign-in as {userName} failed: {(int)response.StatusCode}");
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        if (KeepDataDirectory)
            return;
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
