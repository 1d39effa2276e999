using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Api;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Security;

/// <summary>
/// The attacker's tour: every route of the OpenAPI document and every page, called anonymously,
/// with a revoked token, as a Viewer and cross-site with an admin's cookie. Each call is refused
/// and nothing in the database changes.
/// </summary>
public sealed class AttackSurfaceTests : IClassFixture<PortWatchAppFactory>
{
    private static readonly HttpMethod[] Changes = [HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch];

    private readonly PortWatchAppFactory app;

    public AttackSurfaceTests(PortWatchAppFactory app) => this.app = app;

    /// <summary>Every (method, path) in the OpenAPI document, with route parameters filled in.</summary>
    private async Task<List<(HttpMethod Method, string Path)>> RoutesAsync()
    {
        using var admin = await BearerAsync("surface-admin", Roles.Admin);
        var document = await admin.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var routes = new List<(HttpMethod, string)>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var concrete = System.Text.RegularExpressions.Regex.Replace(path.Name, "\\{[^}]+\\}", "1");
            foreach (var operation in path.Value.EnumerateObject())
                routes.Add((new HttpMethod(operation.Name.ToUpperInvariant()), concrete));
        }
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes in the OpenAPI document");
        return routes;
    }

    private Task<HttpClient> BearerAsync(string user, string role) => app.CreateTokenClientAsync(user, role);

    private static HttpRequestMessage Request(HttpMethod method, string path, string? origin = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (method != HttpMethod.Get && method != HttpMethod.Delete)
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        if (origin is not null)
            request.Headers.Add("Origin", origin);
        return request;
    }

    /// <summary>The routes whose answer was not <paramref name="expected"/>, as "METHOD path: status".</summary>
    private static async Task<List<string>> AnswersOtherThanAsync(HttpClient client, IEnumerable<(HttpMethod Method, string Path)> routes, HttpStatusCode expected, string? origin = null)
    {
        var wrong = new List<string>();
        foreach (var (method, path) in routes)
        {
            using var response = await client.SendAsync(Request(method, path, origin));
            if (response.StatusCode != expected)
                wrong.Add($"{method} {path}: {(int)response.StatusCode}");
        }
        return wrong;
    }

    /// <summary>Row counts of every table PortWatch keeps, plus the audit log: a refused call leaves all of them as they were.</summary>
    private async Task<string> DatabaseFingerprintAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        var counts = new List<string>();
        foreach (var entity in db.Model.GetEntityTypes().Where(e => e.GetTableName() is not null && !e.IsOwned()).OrderBy(e => e.Name))
        {
            var table = entity.GetTableName()!;
            if (table.StartsWith("QRTZ", StringComparison.OrdinalIgnoreCase))
                continue;
            // Table names come from the model, not from input.
#pragma warning disable EF1002
            var count = await db.Database.SqlQueryRaw<int>($"SELECT COUNT(*) AS \"Value\" FROM \"{table}\"").SingleAsync();
#pragma warning restore EF1002
            counts.Add($"{table}={count}");
        }
        counts.Add("stamps=" + string.Join(',', await db.Users.OrderBy(u => u.Id).Select(u => u.SecurityStamp).ToListAsync()));
        return string.Join(' ', counts);
    }

    [Fact]
    public async Task EveryApiRoute_Anonymous_Is401AndChangesNothing()
    {
        var routes = await RoutesAsync();
        var before = await DatabaseFingerprintAsync();
        using var anonymous = app.CreateNonRedirectingClient();
        var wrong = await AnswersOtherThanAsync(anonymous, routes, HttpStatusCode.Unauthorized);

        Assert.Empty(wrong);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task EveryApiRoute_RevokedToken_Is401AndChangesNothing()
    {
        var routes = await RoutesAsync();
        var token = await app.CreateApiTokenAsync("surface-revoked", Roles.Admin);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var tokens = scope.ServiceProvider.GetRequiredService<ApiTokenService>();
            var users = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<PortWatchUser>>();
            var owner = await users.FindByNameAsync("surface-revoked");
            foreach (var info in await tokens.ListAsync(owner!.Id))
                await tokens.RevokeAsync(owner.Id, "surface-revoked", info.Id);
        }
        var before = await DatabaseFingerprintAsync();
        using var client = app.CreateNonRedirectingClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var wrong = await AnswersOtherThanAsync(client, routes, HttpStatusCode.Unauthorized);

        Assert.Empty(wrong);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task EveryChangingApiRoute_Viewer_Is403AndChangesNothing()
    {
        // A Viewer manages only their own API tokens.
        var routes = (await RoutesAsync()).Where(r => Changes.Contains(r.Method) && !r.Path.StartsWith("/api/v1/tokens", StringComparison.Ordinal)).ToList();
        using var viewer = await BearerAsync("surface-viewer", Roles.Viewer);
        var before = await DatabaseFingerprintAsync();
        var wrong = await AnswersOtherThanAsync(viewer, routes, HttpStatusCode.Forbidden);

        Assert.Empty(wrong);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task EveryChangingApiRoute_AdminCookieCrossSite_Is403AndChangesNothing()
    {
        var routes = (await RoutesAsync()).Where(r => Changes.Contains(r.Method)).ToList();
        using var browser = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);
        var before = await DatabaseFingerprintAsync();
        var wrong = await AnswersOtherThanAsync(browser, routes, HttpStatusCode.Forbidden, "http://evil.test");

        Assert.Empty(wrong);
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task EveryUserRoute_Analyst_Is403()
    {
        using var analyst = await BearerAsync("surface-analyst", Roles.Analyst);
        var before = await DatabaseFingerprintAsync();

        using var list = await analyst.GetAsync("/api/v1/users");
        using var create = await analyst.PostAsJsonAsync("/api/v1/users", new { userName = "mallory", password = "Mallory-Password-1", roles = new[] { "Admin" } });
        using var promote = await analyst.PutAsJsonAsync("/api/v1/users/surface-analyst", new { roles = new[] { "Admin" } });
        using var delete = await analyst.DeleteAsync("/api/v1/users/admin");

        Assert.All(new[] { list, create, promote, delete }, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }

    [Fact]
    public async Task EveryPage_Anonymous_RedirectsToSignIn()
    {
        var pages = typeof(Program).Assembly.GetTypes()
            .Where(t => typeof(IComponent).IsAssignableFrom(t) && t.GetCustomAttribute<AllowAnonymousAttribute>() is null)
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>())
            .Select(r => System.Text.RegularExpressions.Regex.Replace(r.Template, "\\{[^}]+\\}", "1"))
            .Distinct().ToList();
        Assert.True(pages.Count >= 10, $"only {pages.Count} pages found");
        using var anonymous = app.CreateNonRedirectingClient();
        var wrong = new List<string>();
        foreach (var page in pages)
        {
            using var response = await anonymous.GetAsync(page);
            var location = response.Headers.Location?.OriginalString ?? "";
            if (response.StatusCode != HttpStatusCode.Redirect || !location.Contains("/account/login", StringComparison.Ordinal))
                wrong.Add($"{page}: {(int)response.StatusCode} {location}");
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("profile")]
    [InlineData("run")]
    [InlineData("import")]
    public async Task PortSpecBomb_EveryEntryPoint_IsAnsweredQuicklyWithA4xx(string entry)
    {
        var bomb = string.Concat(Enumerable.Repeat("1-65535,", 20_000)) + "x";
        using var analyst = await BearerAsync("surface-bomber", Roles.Analyst);
        var before = await DatabaseFingerprintAsync();
        var started = Stopwatch.GetTimestamp();

        using var response = entry switch
        {
            "profile" => await analyst.PostAsJsonAsync("/api/v1/profiles", new ScanProfile { Name = "bomb", TcpPorts = bomb }),
            "run" => await analyst.PostAsJsonAsync("/api/v1/profiles", new ScanProfile { Name = "bomb", TcpPorts = "1-65535", UdpPorts = bomb, UdpEnabled = true }),
            _ => await analyst.PostAsync("/api/v1/imports?format=nmap-xml", new StringContent($"""
                <?xml version="1.0"?><nmaprun scanner="nmap" start="1700000000"><scaninfo type="syn" protocol="tcp" numservices="1" services="{bomb}"/>
                <host><status state="up"/><address addr="192.0.2.5" addrtype="ipv4"/><ports/></host></nmaprun>
                """)),
        };
        var took = Stopwatch.GetElapsedTime(started);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(took < TimeSpan.FromSeconds(10), $"took {took.TotalSeconds:F1} s");
        Assert.Equal(before, await DatabaseFingerprintAsync());
    }
}
