using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>Service detection against real Debian daemons in the test's own namespaces.</summary>
public class ServiceDetectionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private async Task<Dictionary<int, ServiceReport>> ProbeAsync(ServiceTestbed services, ServiceProbeDatabase database)
    {
        var runner = new ServiceProbeRunner(database, new ProbeRunnerOptions(),
            family => services.Bed.Scanner.NewSocket(family, SocketType.Stream, ProtocolType.Tcp));
        var reports = new Dictionary<int, ServiceReport>();
        await foreach (var report in runner.ProbeManyAsync(ServiceTestbed.Ports.Select(p => new IPEndPoint(services.Address, p))))
        {
            reports[report.Endpoint.Port] = report;
            output.WriteLine($"{report.Endpoint.Port}/tcp {report.DisplayName} | {report.Service?.Product} | {report.Service?.Version} | {report.Service?.ExtraInfo} ({report.Service?.Probe}, {report.Elapsed.TotalSeconds:F1} s)");
        }
        return reports;
    }

    [ServiceTestbedFact]
    public async Task Probe_RealServices_IdentifiesProductsVersionsTlsAndHttpFacts()
    {
        using var services = new ServiceTestbed();
        // nmap's database when Debian's nmap-common is installed, else ours: both must identify these.
        var database = ProbeDatabases.Load();

        var reports = await ProbeAsync(services, database);

        Assert.Equal(("ssh", "OpenSSH"), (reports[22].Service?.Name, reports[22].Service?.Product));
        Assert.Matches(@"^\d+\.\d+p\d", reports[22].Service!.Version);
        Assert.Equal("nginx", reports[80].Service?.Product);
        Assert.Matches(@"^\d+\.\d+\.\d+$", reports[80].Service!.Version);
        Assert.Equal(ServiceTestbed.PageTitle, reports[80].Http?.Title);
        Assert.Equal("Redis key-value store", reports[6379].Service?.Product);
        Assert.Matches(@"^\d+\.\d+\.\d+$", reports[6379].Service!.Version);
        Assert.Equal("postgresql", reports[5432].Service?.Name);
        AssertMosquitto(reports[1883]);
        AssertMoreDaemons(reports);

        var tls = reports[443].Tls;
        Assert.NotNull(tls);
        Assert.Equal($"CN={ServiceTestbed.CertificateName}", tls.Subject);
        Assert.True(tls.SelfSigned);
        Assert.Equal(("RSA", 2048), (tls.KeyType, tls.KeySize));
        Assert.Contains($"www.{ServiceTestbed.CertificateName}", tls.SubjectAlternativeNames);
        Assert.True(tls.NotAfter > DateTime.UtcNow);
        Assert.Equal("ssl/http", reports[443].DisplayName);
        Assert.Equal("nginx", reports[443].Service?.Product);
        Assert.Equal(ServiceTestbed.PageTitle, reports[443].Http?.Title);
    }

    [ServiceTestbedFact]
    public async Task Probe_BuiltInProbesOnly_StillNamesEveryService()
    {
        using var services = new ServiceTestbed();

        var reports = await ProbeAsync(services, ProbeDatabases.BuiltIn());

        Assert.Equal("ssh", reports[22].Service?.Name);
        Assert.Equal("http", reports[80].Service?.Name);
        Assert.Equal("ssl/http", reports[443].DisplayName);
        Assert.Equal("redis", reports[6379].Service?.Name);
        Assert.Equal("postgresql", reports[5432].Service?.Name);
        Assert.Equal("OpenSSH", reports[22].Service?.Product);
        Assert.Equal("Redis key-value store", reports[6379].Service?.Product);
        AssertMosquitto(reports[1883]);
        AssertMoreDaemons(reports);
        Assert.Equal(("PostgreSQL DB", "9.6.0 or later"), (reports[5432].Service?.Product, reports[5432].Service?.Version));
        Assert.Equal(("git", "Git daemon"), (reports[9418].Service?.Name, reports[9418].Service?.Product));
        Assert.Equal("MariaDB", reports[3306].Service?.Product);
        Assert.Matches(@"^\d+\.\d+\.\d+$", reports[3306].Service!.Version);
        Assert.Equal("ngIRCd", reports[6667].Service?.Product);
        Assert.Matches(@"^\d+(\.\d+)*$", reports[6667].Service!.Version);
    }

    /// <summary>What both databases name: FTP, rsync, IRC, the HTTP proxies and lighttpd, with products and versions where the protocol gives them.</summary>
    private static void AssertMoreDaemons(Dictionary<int, ServiceReport> reports)
    {
        Assert.Equal(("ftp", "vsftpd"), (reports[21].Service?.Name, reports[21].Service?.Product));
        Assert.Matches(@"^\d+\.\d+\.\d+$", reports[21].Service!.Version);
        Assert.Equal("rsync", reports[873].Service?.Name);
        Assert.Equal("mysql", reports[3306].Service?.Name);
        Assert.Contains("MariaDB", $"{reports[3306].Service?.Product} {reports[3306].Service?.Version}", StringComparison.Ordinal);
        Assert.Matches(@"\d+\.\d+\.\d+", reports[3306].Service!.Version);
        Assert.Equal("irc", reports[6667].Service?.Name);
        Assert.Equal(("http-proxy", "Squid http proxy"), (reports[3128].Service?.Name, reports[3128].Service?.Product));
        Assert.Equal(("http-proxy", "tinyproxy"), (reports[8888].Service?.Name, reports[8888].Service?.Product));
        Assert.Equal(("http", "lighttpd"), (reports[8081].Service?.Name, reports[8081].Service?.Product));
        foreach (var port in new[] { 3128, 8888, 8081 })
            Assert.Matches(@"^\d+\.\d+(\.\d+)?$", reports[port].Service!.Version);
    }

    /// <summary>MQTT's handshake names no product: the broker's $SYS/broker/version topic does.</summary>
    private static void AssertMosquitto(ServiceReport report)
    {
        Assert.Equal(("mqtt", "mosquitto"), (report.Service?.Name, report.Service?.Product));
        Assert.Matches(@"^\d+\.\d+\.\d+$", report.Service!.Version);
    }
}
