using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Security;

/// <summary>
/// A page on another site cannot make a signed-in analyst's browser import a file, and no file,
/// forged or not, closes what real scans found unless the analyst asks for it.
/// </summary>
public sealed class ForgedImportTests : IDisposable
{
    private const string Host = "192.0.2.77";

    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create();

    public void Dispose() => app.Dispose();

    private static string NmapXml(params int[] openPorts) => $"""
        <?xml version="1.0"?>
        <nmaprun scanner="nmap" start="1700000000" args="nmap -p 1-1024 {Host}">
          <scaninfo type="syn" protocol="tcp" numservices="1024" services="1-1024"/>
          <host><status state="up" reason="echo-reply"/><address addr="{Host}" addrtype="ipv4"/>
            <ports>{string.Concat(openPorts.Select(p => $"<port protocol=\"tcp\" portid=\"{p}\"><state state=\"open\" reason=\"syn-ack\"/></port>"))}</ports>
          </host>
          <runstats><finished time="1700000100"/></runstats>
        </nmaprun>
        """;

    private Task<HttpClient> BearerAsync() => app.CreateTokenClientAsync("importer", Roles.Analyst);

    private async Task<(int Runs, string States)> SnapshotAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        var states = await db.Findings.OrderBy(f => f.Port).Select(f => $"{f.Port}:{f.CurrentState}").ToListAsync();
        return (await db.ScanRuns.CountAsync(), string.Join(',', states));
    }

    private async Task SeedOpenPortsAsync()
    {
        using var client = await BearerAsync();
        using var seeded = await client.PostAsync("/api/v1/imports?format=nmap-xml", new StringContent(NmapXml(22, 80, 443)));
        Assert.Equal(HttpStatusCode.Created, seeded.StatusCode);
    }

    private static MultipartFormDataContent Multipart(string xml)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(xml)), "file", "scan.xml");
        return form;
    }

    [Theory]
    [InlineData("multipart", "http://evil.test")]
    [InlineData("text", "http://evil.test")]
    [InlineData("text", null)]
    [InlineData("multipart", "null")]
    public async Task Import_CookieFromAnotherSite_IsRefusedAndChangesNothing(string body, string? origin)
    {
        await SeedOpenPortsAsync();
        var before = await SnapshotAsync();
        using var browser = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/api/v1/imports?closeMissing=true")
        {
            Content = body == "multipart" ? Multipart(NmapXml()) : new StringContent(NmapXml(), Encoding.UTF8, "text/plain"),
        };
        if (origin is not null)
            forged.Headers.Add("Origin", origin);

        using var response = await browser.SendAsync(forged);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Import_CookieFromTheDashboardWithItsHeader_IsAccepted()
    {
        using var browser = await app.CreateSignedInClientAsync(PortWatchAppFactory.AdminUser, PortWatchAppFactory.AdminPassword);
        using var request = DashboardRequests.SameSite(HttpMethod.Post, "/api/v1/imports");
        request.Content = Multipart(NmapXml(8080));

        using var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Import_BearerTokenWithAForeignOrigin_IsNotAForgery()
    {
        using var client = await BearerAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/imports") { Content = new StringContent(NmapXml(8443)) };
        request.Headers.Add("Origin", "http://evil.test");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Import_HostUpWithNoOpenPorts_ClosesNothingByDefault()
    {
        await SeedOpenPortsAsync();
        using var client = await BearerAsync();

        using var response = await client.PostAsync("/api/v1/imports", new StringContent(NmapXml()));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("22:Open,80:Open,443:Open", (await SnapshotAsync()).States);
        await using var db = await app.CreateDbContextAsync();
        Assert.DoesNotContain(await db.FindingEvents.Select(e => e.Kind).ToListAsync(), k => k is FindingEventKind.Closed or FindingEventKind.CoverageLost);
    }

    [Fact]
    public async Task Import_Preview_ShowsWhatWouldChangeAndStoresNothing()
    {
        await SeedOpenPortsAsync();
        var before = await SnapshotAsync();
        using var client = await BearerAsync();

        using var keep = await client.PostAsync("/api/v1/imports?preview=true", new StringContent(NmapXml(80, 8080)));
        using var close = await client.PostAsync("/api/v1/imports?preview=true&closeMissing=true", new StringContent(NmapXml(80, 8080)));

        Assert.Equal(HttpStatusCode.OK, keep.StatusCode);
        var kept = await keep.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, kept.GetProperty("new").GetInt32());
        Assert.Equal($"{Host}:8080/tcp", kept.GetProperty("newPorts")[0].GetString());
        Assert.Equal(0, kept.GetProperty("wouldClose").GetInt32());
        var closing = await close.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, closing.GetProperty("wouldClose").GetInt32());
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task Import_CloseMissingAskedFor_ClosesWhatTheFileShowsClosed()
    {
        await SeedOpenPortsAsync();
        using var client = await BearerAsync();

        using var response = await client.PostAsync("/api/v1/imports?closeMissing=true", new StringContent(NmapXml(80)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("22:Closed,80:Open,443:Closed", (await SnapshotAsync()).States);
    }
}
