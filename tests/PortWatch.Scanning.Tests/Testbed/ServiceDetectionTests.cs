using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Probes;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>Service detection against real Debian daemons in the test's own namespaces.</summary>
public class ServiceDetectionTests
{
    private static async Task<Dictionary<int, ServiceReport>> ProbeAsync(ServiceTestbed services, ServiceProbeDatabase database)
    {
        var runner = new ServiceProbeRunner(database, new ProbeRunnerOptions(),
            family => services.Bed.Scanner.NewSocket(family, SocketType.Stream, ProtocolType.Tcp));
        var reports = new Dictionary<int, ServiceReport>();
        await foreach (var report in runner.ProbeManyAsync(ServiceTestbed.Ports.Select(p => new IPEndPoint(services.Address, p))))
            reports[report.Endpoint.Port] = report;
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
    }

    /// <summary>MQTT's handshake names no product: the broker's $SYS/broker/version topic does.</summary>
    private static void AssertMosquitto(ServiceReport report)
    {
        Assert.Equal(("mqtt", "mosquitto"), (report.Service?.Name, report.Service?.Product));
        Assert.Matches(@"^\d+\.\d+\.\d+$", report.Service!.Version);
    }
}
