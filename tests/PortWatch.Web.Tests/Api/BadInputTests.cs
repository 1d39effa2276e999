using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Api;

/// <summary>
/// Hostile and sloppy input on /api: every refusal is an RFC 7807 problem (JSON, never an HTML error
/// page or a 500) naming what is wrong, and nothing is half-written. Duplicates in an import are merged.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
    {
        ["Scanning:AllowedScope:0"] = "192.0.2.0/24",
        ["Scanning:AllowedScope:1"] = "198.51.100.0/24",
        ["Scanning:AllowedScope:2"] = "2001:db8::/32",
    });

    public void Dispose() => app.Dispose();

    private Task<HttpClient> AnalystAsync() => app.CreateTokenClientAsync($"bad-input-{Guid.NewGuid():N}"[..20], Roles.Analyst);

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/octet-stream");

    private async Task<(int Runs, int Observations, int Assets)> CountsAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        return (await db.ScanRuns.CountAsync(), await db.PortObservations.CountAsync(), await db.Assets.CountAsync());
    }

    /// <summary>The response is a problem document with this status; returns its errors (field → messages) and text.</summary>
    private static async Task<(Dictionary<string, string[]> Errors, string Text)> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var errors = json.RootElement.TryGetProperty("errors", out var e)
            ? e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(m => m.GetString()!).ToArray())
            : [];
        return (errors, text);
    }

    private const string NmapHead = """
        <?xml version="1.0"?>
        <nmaprun scanner="nmap" start="1700000000">
        <scaninfo type="syn" protocol="tcp" numservices="2" services="22,80"/>
        """;

    private const string NmapTail = """
        <runstats><finished time="1700000100"/></runstats>
        </nmaprun>
        """;

    private static string NmapHost(string address, params (int Port, string State, string? Service)[] ports) =>
        $"<host><status state=\"up\"/><address addr=\"{address}\" addrtype=\"ipv4\"/><ports>"
        + string.Concat(ports.Select(p => $"<port protocol=\"tcp\" portid=\"{p.Port}\"><state state=\"{p.State}\" reason=\"syn-ack\"/>{(p.Service is null ? "" : $"<service name=\"{p.Service}\"/>")}</port>"))
        + "</ports></host>\n";

    [Fact]
    public async Task Import_NmapXmlWithAHostAndAPortTwice_MergesThemIntoOneEach()
    {
        using var client = await AnalystAsync();
        var xml = NmapHead
            + NmapHost("192.0.2.10", (22, "open", null), (22, "open", "ssh"))
            + NmapHost("192.0.2.10", (80, "open", "http"))
            + NmapTail;

        var response = await client.PostAsync("/api/v1/imports?format=nmap-xml", Body(xml));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        await using var db = await app.CreateDbContextAsync();
        var observations = await db.PortObservations.Include(o => o.Service).Where(o => o.Address == "192.0.2.10").OrderBy(o => o.Port).ToListAsync();
        Assert.Equal([22, 80], observations.Select(o => o.Port));
        Assert.Equal("ssh", observations[0].Service?.Name);
        Assert.Single(await db.ScanTargetCoverage.Where(c => c.Address == "192.0.2.10").ToListAsync());
    }

    [Theory]
    [InlineData("""[{"ip":"192.0.2.20","ports":[80]}]""", "must be an object")]
    [InlineData("""[{"ip":"192.0.2.20","ports":[{"port":80,"proto":6,"status":"open"}]}]""", "\"proto\" must be a string")]
    [InlineData("""[{"ip":"192.0.2.20","ports":[{"port":80,"proto":"tcp","status":1}]}]""", "\"status\" must be a string")]
    [InlineData("""[{"ip":"192.0.2.20","ports":[{"port":80,"proto":"tcp","service":{"name":"http","banner":42}}]}]""", "\"banner\" must be a string")]
    [InlineData("""[{"ip":"192.0.2.20","ports":[{"port":80,"proto":"tcp","service":"http"}]}]""", "\"service\" must be an object")]
    [InlineData("""[{"ip":7,"ports":[]}]""", "no valid \"ip\"")]
    [InlineData("""[{"ip":"192.0.2.20","ports":[{"port":"80","status":"open"}]}]""", "not a number")]
    public async Task Import_MasscanJsonWithWrongTypes_IsAProblemNamingTheFieldAndStoresNothing(string json, string expected)
    {
        using var client = await AnalystAsync();
        var before = await CountsAsync();

        var (errors, text) = await ProblemAsync(await client.PostAsync("/api/v1/imports?format=masscan-json", Body(json)), HttpStatusCode.BadRequest);

        Assert.Contains(expected, string.Join(' ', errors.GetValueOrDefault("file") ?? []));
        Assert.DoesNotContain("Exception", text);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Import_MasscanJsonWithAPortTwice_MergesTheBannerIntoTheOpenPort()
    {
        using var client = await AnalystAsync();
        var json = """
            [
            {"ip":"192.0.2.30","timestamp":"1700000000","ports":[{"port":8080,"proto":"tcp","status":"open","reason":"syn-ack","ttl":64}]},
            {"ip":"192.0.2.30","timestamp":"1700000001","ports":[{"port":8080,"proto":"tcp","service":{"name":"http","banner":"HTTP/1.0 200 OK"}}]},
            {"ip":"192.0.2.30","timestamp":"1700000002","ports":[{"port":8080,"proto":"tcp","status":"open","reason":"syn-ack","ttl":64}]}
            ]
            """;

        var response = await client.PostAsync("/api/v1/imports?format=masscan-json", Body(json));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        await using var db = await app.CreateDbContextAsync();
        var observation = await db.PortObservations.Include(o => o.Service).SingleAsync(o => o.Address == "192.0.2.30");
        Assert.Equal("HTTP/1.0 200 OK", observation.Service?.Banner);
    }

    [Fact]
    public async Task BulkAssets_NullEntryWrongTypesAndLongOwner_AreProblemsNamingEachFieldAndStoreNothing()
    {
        using var client = await AnalystAsync();
        var before = await CountsAsync();

        var (nullErrors, _) = await ProblemAsync(await client.PostAsync("/api/v1/assets/bulk", new StringContent("[null]", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        Assert.Contains("[0]", nullErrors.Keys);

        var items = new object[]
        {
            new { target = "192.0.2.40", owner = new string('o', 201) },
            new { target = "0.0.0.0/0" },
            new { target = "::/0" },
            new { target = "203.0.113.5" },
            new { target = "192.0.2.41", tags = (string[]?)null },
        };
        var (errors, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/assets/bulk", items), HttpStatusCode.BadRequest);

        Assert.Contains("[0].owner", errors.Keys);
        Assert.DoesNotContain("[0].target", errors.Keys); // the target was fine: the error is about the owner
        Assert.Contains("cannot be scanned", string.Join(' ', errors["[1].target"]));
        Assert.Contains("cannot be scanned", string.Join(' ', errors["[2].target"]));
        Assert.Contains("[4].tags", errors.Keys);
        Assert.Equal(before, await CountsAsync());

        // Outside the allowed scope: refused at entry with the reason, not only when a scan is attempted.
        var (scopeErrors, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/assets/bulk", new[] { new { target = "203.0.113.5" } }), HttpStatusCode.BadRequest);
        Assert.Contains("203.0.113.5", string.Join(' ', scopeErrors["[0].target"]));
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task BulkAssets_BodyThatIsNotJson_IsAProblem()
    {
        using var client = await AnalystAsync();

        await ProblemAsync(await client.PostAsync("/api/v1/assets/bulk", new StringContent("[{\"target\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await ProblemAsync(await client.PostAsync("/api/v1/assets/bulk", new StringContent("{\"target\":\"192.0.2.1\"}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Import_MultipartWithoutBoundaryOrTruncated_IsAProblemAndStoresNothing()
    {
        using var client = await AnalystAsync();
        var before = await CountsAsync();

        var noBoundary = new StringContent("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n\r\n<nmaprun/>\r\n--x--\r\n");
        noBoundary.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data");
        await ProblemAsync(await client.PostAsync("/api/v1/imports", noBoundary), HttpStatusCode.BadRequest);

        var truncated = new StringContent("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n\r\n<nmaprun scanner=\"nmap\">");
        truncated.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
        await ProblemAsync(await client.PostAsync("/api/v1/imports", truncated), HttpStatusCode.BadRequest);

        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Profiles_EngineOutOfRange_IsAProblemNamingTheFieldAndTheAllowedValues()
    {
        using var client = await AnalystAsync();

        var (errors, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/profiles", new { name = "bad-engine", tcpPorts = "22", engine = 99 }), HttpStatusCode.BadRequest);
        Assert.Contains("Auto, Syn, Connect", string.Join(' ', errors["engine"]));

        var (named, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/profiles", new { name = "bad-engine", tcpPorts = "22", engine = "warp" }), HttpStatusCode.BadRequest);
        Assert.Contains("'warp' is not one of", string.Join(' ', named["engine"]));

        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.ScanProfiles.AnyAsync(p => p.Name == "bad-engine"));
    }

    [Theory]
    [InlineData("* * * * * ?", "at most once a minute")]
    [InlineData("0/10 * * * * ?", "at most once a minute")]
    [InlineData("0 0 0 31 2 ?", "never fires")]
    [InlineData("0 0 25 ? * *", "cron expression")]
    public async Task Schedules_CronThatFiresTooOftenOrNever_IsRefused(string cron, string expected)
    {
        using var client = await AnalystAsync();
        await using var db = await app.CreateDbContextAsync();
        var profileId = (await db.ScanProfiles.FirstAsync()).Id;

        var (errors, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/schedules", new { name = $"cron-{Guid.NewGuid():N}", cronExpression = cron, scanProfileId = profileId }),
            HttpStatusCode.BadRequest);

        Assert.Contains(expected, string.Join(' ', errors["CronExpression"]));
    }

    [Fact]
    public async Task Schedules_NamingAssetsThatDoNotExist_IsRefused()
    {
        using var client = await AnalystAsync();
        await using var db = await app.CreateDbContextAsync();
        var profileId = (await db.ScanProfiles.FirstAsync()).Id;

        var (errors, _) = await ProblemAsync(await client.PostAsJsonAsync("/api/v1/schedules",
            new { name = "ghost-assets", cronExpression = "0 0 2 ? * *", scanProfileId = profileId, assetSelection = "List", assetIds = new[] { 424242 } }), HttpStatusCode.BadRequest);

        Assert.Contains("424242", string.Join(' ', errors["AssetIds"]));
        Assert.False(await db.Schedules.AnyAsync(s => s.Name == "ghost-assets"));
    }

    [Theory]
    [InlineData("quick=999", "quick")]
    [InlineData("status=77", "status")]
    [InlineData("minSeverity=12", "minSeverity")]
    [InlineData("protocol=sctp", "protocol")]
    public async Task Findings_UnknownFilterValue_IsA400NotEverything(string query, string field)
    {
        using var client = await AnalystAsync();

        var (errors, _) = await ProblemAsync(await client.GetAsync($"/api/v1/findings?{query}"), HttpStatusCode.BadRequest);
        Assert.Contains(field, errors.Keys);
        await ProblemAsync(await client.GetAsync($"/api/v1/findings/export?format=csv&{query}"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Import_FileOverKestrelsDefaultBodyCapButUnderTheImportLimit_IsImported()
    {
        // Kestrel (a real process: the test host has no body limit) refuses bodies over 30,000,000 bytes unless told
        // otherwise; Imports:MaxFileMegabytes (here 40) is the one limit.
        using var nodes = new Scans.ClusterNodes();
        var node = nodes.Start("kestrel", null, settings: new Dictionary<string, string> { ["Imports__MaxFileMegabytes"] = "40" });
        var address = await nodes.AddressAsync(node);
        var cookies = new System.Net.CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        Assert.Equal(HttpStatusCode.Redirect, (await PortWatchAppFactory.SignInAsync(client, "admin", "Admin-Password-1")).StatusCode);
        client.DefaultRequestHeaders.Add("X-PortWatch-Request", "1");
        client.DefaultRequestHeaders.Add("Origin", address.GetLeftPart(UriPartial.Authority));
        var file = new StringBuilder("#masscan\nopen tcp 443 192.0.2.77 1700000000\n");
        var padding = "# " + new string('x', 1000) + "\n";
        while (file.Length < 31_000_000)
            file.Append(padding);

        var response = await client.PostAsync("/api/v1/imports?format=masscan-list", Body(file.ToString()));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

        while (file.Length < 42 * 1024 * 1024)
            file.Append(padding);
        // A well-behaved client (curl, portwatch import) asks before sending a large body, and so hears the refusal.
        using var tooLarge = new HttpRequestMessage(HttpMethod.Post, "/api/v1/imports?format=masscan-list") { Content = Body(file.ToString()) };
        tooLarge.Headers.ExpectContinue = true;
        var refused = await client.SendAsync(tooLarge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("larger than the limit of 40 MB (Imports:MaxFileMegabytes)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
