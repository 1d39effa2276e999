using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Api;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Identity;

namespace PortWatch.Web.Tests.Api;

/// <summary>Imports and exports through the API: round trips, masscan formats, and hostile files that must store nothing.</summary>
public sealed class ImportExportTests : IDisposable
{
    private readonly PortWatchAppFactory app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Imports:MaxFileMegabytes"] = "1" });

    public void Dispose() => app.Dispose();

    private Task<HttpClient> AnalystAsync() => app.CreateTokenClientAsync($"importer-{Guid.NewGuid():N}"[..20], Roles.Analyst);

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/octet-stream");

    private async Task<(int Runs, int Observations)> CountsAsync()
    {
        await using var db = await app.CreateDbContextAsync();
        return (await db.ScanRuns.CountAsync(), await db.PortObservations.CountAsync());
    }

    private static (string, int, TransportProtocol, PortState, string, int?, string?, string?, string?, string?, string) Key(PortObservation o) =>
        (o.Address, o.Port, o.Protocol, o.State, o.Reason, o.Ttl, o.Service?.Name, o.Service?.Product, o.Service?.Version, o.Service?.ExtraInfo, string.Join(' ', o.Service?.Cpes ?? []));

    [Fact]
    public async Task NmapXml_ExportThenImport_YieldsTheSameObservations()
    {
        long original;
        await using (var db = await app.CreateDbContextAsync())
        {
            var run = new ScanRun { Status = ScanRunStatus.Completed, TargetSpec = "192.0.2.0/30", ScannedTcpPorts = "1-1024,8443", CreatedAt = DateTime.UtcNow, StartedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync();
            original = run.Id;
            PortObservation Obs(string address, int port, string reason, int ttl, ServiceInfo? service) => new()
            {
                ScanRunId = run.Id, Address = address, AddressKey = IpKey.From(IPAddress.Parse(address)), Port = port, State = PortState.Open, Reason = reason, Ttl = ttl,
                ObservedAt = DateTime.UtcNow, Service = service,
            };
            db.PortObservations.AddRange(
                Obs("192.0.2.1", 22, "syn-ack", 64, new ServiceInfo { Name = "ssh", Product = "OpenSSH", Version = "9.2p1 Debian 2+deb12u3", ExtraInfo = "protocol 2.0", Cpes = ["cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel"] }),
                Obs("192.0.2.1", 443, "syn-ack", 64, new ServiceInfo { Name = "http", Product = "nginx \"<edge>\" & co", Version = "1.24.0" }),
                Obs("192.0.2.2", 8443, "syn-ack", 63, null));
            await db.SaveChangesAsync();
        }
        using var client = await AnalystAsync();

        var xml = await client.GetStringAsync($"/api/v1/runs/{original}/export?format=xml");
        var import = await client.PostAsync("/api/v1/imports?format=nmap-xml&name=roundtrip.xml", Body(xml));

        Assert.Equal(HttpStatusCode.Created, import.StatusCode);
        var imported = (await import.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetInt64();
        await using var check = await app.CreateDbContextAsync();
        var before = (await check.PortObservations.Include(o => o.Service).Where(o => o.ScanRunId == original).ToListAsync()).Select(Key).Order().ToList();
        var after = (await check.PortObservations.Include(o => o.Service).Where(o => o.ScanRunId == imported).ToListAsync()).Select(Key).Order().ToList();
        Assert.Equal(before, after);
        var importedRun = await check.ScanRuns.SingleAsync(r => r.Id == imported);
        Assert.Equal((ScanTrigger.Import, ScanRunStatus.Completed, "1-1024,8443"), (importedRun.Trigger, importedRun.Status, importedRun.ScannedTcpPorts));
        Assert.Equal(3, await check.Findings.CountAsync(f => f.LastRunId == imported)); // through the normal triage
    }

    [Fact]
    public async Task MasscanJsonAndList_Import_BecomeRunsWithObservations()
    {
        const string json = """
            [
            {   "ip": "192.0.2.20",   "timestamp": "1700000000", "ports": [ {"port": 6379, "proto": "tcp", "status": "open", "reason": "syn-ack", "ttl": 61} ] },
            {   "ip": "192.0.2.20",   "timestamp": "1700000001", "ports": [ {"port": 6379, "proto": "tcp", "service": {"name": "redis", "banner": "-NOAUTH Authentication required."} } ] },
            {   "ip": "192.0.2.21",   "timestamp": "1700000002", "ports": [ {"port": 53, "proto": "udp", "status": "open", "reason": "udp-response", "ttl": 60} ] },
            ]
            """;
        const string list = "#masscan\nopen tcp 3389 192.0.2.30 1700000000\nopen tcp 22 192.0.2.31 1700000001\nbanner tcp 22 192.0.2.31 1700000002 ssh SSH-2.0-OpenSSH_8.9\n# end\n";
        using var client = await AnalystAsync();

        var fromJson = await client.PostAsync("/api/v1/imports?name=scan.json", Body(json));
        var fromList = await client.PostAsync("/api/v1/imports?format=masscan-list", Body(list));

        Assert.Equal(HttpStatusCode.Created, fromJson.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fromList.StatusCode);
        await using var db = await app.CreateDbContextAsync();
        var redis = await db.PortObservations.Include(o => o.Service).SingleAsync(o => o.Address == "192.0.2.20");
        Assert.Equal((6379, "syn-ack", 61, "redis", "-NOAUTH Authentication required."), (redis.Port, redis.Reason, redis.Ttl, redis.Service!.Name, redis.Service.Banner));
        Assert.Equal(TransportProtocol.Udp, (await db.PortObservations.SingleAsync(o => o.Address == "192.0.2.21")).Protocol);
        var ssh = await db.PortObservations.Include(o => o.Service).SingleAsync(o => o.Address == "192.0.2.31");
        Assert.Equal(("ssh", "SSH-2.0-OpenSSH_8.9"), (ssh.Service!.Name, ssh.Service.Banner));
        Assert.Equal(Severity.Critical, (await db.Findings.SingleAsync(f => f.Address == "192.0.2.20")).Severity);
        // masscan does not say which ports it probed: nothing may be called closed, so coverage is partial.
        Assert.All(await db.ScanTargetCoverage.Where(c => c.Address.StartsWith("192.0.2.3")).ToListAsync(), c => Assert.Equal(TargetCoverageStatus.Partial, c.Status));
    }

    public static TheoryData<string, string, string> HostileFiles => new()
    {
        { "nmap-xml", """<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><nmaprun start="1"><host><address addr="&xxe;" addrtype="ipv4"/></host><runstats><finished time="2"/></runstats></nmaprun>""", "undeclared entity" },
        { "nmap-xml", """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><nmaprun start="1">&lol3;<runstats><finished time="2"/></runstats></nmaprun>""", "undeclared entity" },
        { "nmap-xml", """<?xml version="1.0"?><report><host/></report>""", "not an Nmap XML file" },
        { "nmap-xml", """<?xml version="1.0"?><nmaprun start="1"><host><status state="up"/><address addr="192.0.2.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/></port></ports></host>""", "not well-formed or complete" },
        { "nmap-xml", """<?xml version="1.0"?><nmaprun start="1"><host><status state="up"/><address addr="192.0.2.9" addrtype="ipv4"/></host></nmaprun>""", "truncated" },
        { "nmap-xml", """<?xml version="1.0"?><nmaprun start="1"><host><address addr="192.0.2.9" addrtype="ipv4"/><ports><port protocol="tcp" portid="70000"><state state="open"/></port></ports></host><runstats><finished time="2"/></runstats></nmaprun>""", "'70000' is not a port number" },
        { "masscan-json", """[ { "ip": "192.0.2.9", "ports": [ {"port": 80, "proto": "tcp", "status": "open"} ] }, { "ip": "192.0.2.10", "ports": [ {"port""", "not valid or complete" },
        { "masscan-json", """{ "hosts": [] }""", "top level is not an array" },
        { "masscan-list", "open tcp 80 not-an-ip 1700000000\n", "'not-an-ip' is not an IP address" },
    };

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public async Task Import_HostileOrBrokenFile_ClearErrorAndNothingStored(string format, string content, string expected)
    {
        using var client = await AnalystAsync();
        var before = await CountsAsync();

        var response = await client.PostAsync($"/api/v1/imports?format={format}", Body(content));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(expected, problem.GetProperty("errors").GetProperty("file")[0].GetString());
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Import_FileOverTheSizeLimit_RefusedAndNothingStored()
    {
        using var client = await AnalystAsync();
        var before = await CountsAsync();
        var huge = new StringBuilder("#masscan\n");
        while (huge.Length < 1_200_000)
            huge.Append("open tcp 80 192.0.2.50 1700000000\n");

        var response = await client.PostAsync("/api/v1/imports?format=masscan-list", Body(huge.ToString()));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("larger than the limit of 1 MB", await response.Content.ReadAsStringAsync());
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Import_HostsOutsideTheScope_Refused()
    {
        using var scoped = PortWatchAppFactory.Create(settings: new Dictionary<string, string?> { ["Scanning:AllowedScope:0"] = "198.51.100.0/24" });
        _ = scoped.Services;
        await using var scope = scoped.Services.CreateAsyncScope();
        var imports = scope.ServiceProvider.GetRequiredService<Imports.ScanImportService>();

        var error = await Assert.ThrowsAsync<Imports.ScanFileException>(() =>
            imports.ImportAsync(Encoding.UTF8.GetBytes("#masscan\nopen tcp 80 192.0.2.50 1700000000\n"), null, "x.txt", "admin"));

        Assert.Contains("outside the allowed scope", error.Message);
    }

    [Theory]
    [InlineData(40, "ended after 30 of the 40 bytes")]
    [InlineData(20, "longer than the 20 bytes")]
    public async Task ReadLimitedAsync_BodyNotTheAnnouncedLength_RefusedWithTheLengths(long announced, string expected)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var imports = scope.ServiceProvider.GetRequiredService<Imports.ScanImportService>();
        using var body = new MemoryStream(Encoding.UTF8.GetBytes("#masscan\nopen tcp 80 x 1\n# end"));

        var error = await Assert.ThrowsAsync<Imports.ScanFileException>(() => imports.ReadLimitedAsync(body, CancellationToken.None, announced));

        Assert.Contains(expected, error.Message);
    }
}
