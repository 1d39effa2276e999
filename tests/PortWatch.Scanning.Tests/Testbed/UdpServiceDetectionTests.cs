using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;
using Xunit.Abstractions;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>UDP service detection against real Debian daemons in the test's own namespaces, with nmap's database and with the built-in set.</summary>
public class UdpServiceDetectionTests(ITestOutputHelper output)
{
    private async Task<Dictionary<int, ServiceReport>> ProbeUdpAsync(DatagramServiceTestbed services, ServiceProbeDatabase database)
    {
        var runner = new UdpServiceProbeRunner(database, new ProbeRunnerOptions(),
            family => services.Bed.Scanner.NewSocket(family, SocketType.Dgram, ProtocolType.Udp));
        var reports = new Dictionary<int, ServiceReport>();
        var ports = DatagramServiceTestbed.UdpPorts.Append(DatagramServiceTestbed.ClosedPort);
        await foreach (var report in runner.ProbeManyAsync(ports.Select(p => new IPEndPoint(services.Address, p))))
        {
            reports[report.Endpoint.Port] = report;
            output.WriteLine($"{report.Endpoint.Port}/udp answered={report.Answered} refused={report.Refused} {report.DisplayName} {report.Service?.Product} {report.Service?.Version} ({report.Service?.Probe}, {report.Elapsed.TotalSeconds:F1} s)");
        }
        return reports;
    }

    /// <summary>What both databases must find. Beyond it, nmap's own database names memcached over UDP no better than nmap does
    /// (its pattern expects the answer without the UDP frame header) and SNMP as nmap does ("SNMPv1 server").</summary>
    private static void AssertCommon(Dictionary<int, ServiceReport> reports)
    {
        foreach (var port in new[] { 53, DatagramServiceTestbed.DnsOddPort })
        {
            Assert.True(reports[port].Answered);
            Assert.Equal(("domain", "dnsmasq"), (reports[port].Service?.Name, reports[port].Service?.Product));
            Assert.Matches(@"^\d+\.\d+", reports[port].Service!.Version);
        }
        Assert.Equal("snmp", reports[161].Service?.Name);
        Assert.NotNull(reports[161].Service?.Product);
        Assert.Equal(("ntp", "NTP", "v4"), (reports[123].Service?.Name, reports[123].Service?.Product, reports[123].Service?.Version));
        Assert.True(reports.Where(r => r.Key != DatagramServiceTestbed.ClosedPort).All(r => r.Value.Answered));
        Assert.Equal(("rpcbind", "2-4", "RPC #100000"), (reports[111].Service?.Name, reports[111].Service?.Version, reports[111].Service?.ExtraInfo));
        Assert.Equal(("status", "1", "RPC #100024"), (reports[DatagramServiceTestbed.StatdPort].Service?.Name, reports[DatagramServiceTestbed.StatdPort].Service?.Version,
            reports[DatagramServiceTestbed.StatdPort].Service?.ExtraInfo));
        Assert.True(reports[DatagramServiceTestbed.ClosedPort].Refused);
        Assert.False(reports[DatagramServiceTestbed.ClosedPort].Answered);
    }

    [DatagramServiceTestbedFact]
    public async Task ProbeUdp_RealDaemonsWithNmapsDatabase_NamesProductsAndVersions()
    {
        using var services = new DatagramServiceTestbed();
        const string path = "/usr/share/nmap/nmap-service-probes";
        Assert.True(File.Exists(path), $"{path} is not installed (nmap-common; scripts/test.sh installs it)");

        AssertCommon(await ProbeUdpAsync(services, ServiceProbeParser.ParseFile(path)));
    }

    [DatagramServiceTestbedFact]
    public async Task ProbeUdp_RealDaemonsWithBuiltInProbes_NamesProductsAndVersions()
    {
        using var services = new DatagramServiceTestbed();

        var reports = await ProbeUdpAsync(services, ProbeDatabases.BuiltIn());

        AssertCommon(reports);
        Assert.Equal(("memcached", "Memcached"), (reports[11211].Service?.Name, reports[11211].Service?.Product));
        Assert.Matches(@"^\d+\.\d+\.\d+$", reports[11211].Service!.Version);
        Assert.Equal("net-snmp", reports[161].Service?.Product);
    }

    /// <summary>Every RPC port answers a call to rpcbind; the grinder names the program actually there (rpc.statd's "status").</summary>
    [DatagramServiceTestbedFact]
    public async Task ProbeTcp_RpcPorts_AreNamedByTheirProgramNotAllRpcbind()
    {
        using var services = new DatagramServiceTestbed();
        foreach (var database in new[] { ServiceProbeParser.ParseFile("/usr/share/nmap/nmap-service-probes"), ProbeDatabases.BuiltIn() })
        {
            var runner = new ServiceProbeRunner(database, new ProbeRunnerOptions(),
                family => services.Bed.Scanner.NewSocket(family, SocketType.Stream, ProtocolType.Tcp));

            var rpcbind = await runner.ProbeAsync(new IPEndPoint(services.Address, 111));
            var statd = await runner.ProbeAsync(new IPEndPoint(services.Address, DatagramServiceTestbed.StatdPort));

            output.WriteLine($"{database.Source}: 111/tcp {rpcbind.DisplayName} {rpcbind.Service?.Version} ({rpcbind.Service?.ExtraInfo}); " +
                $"{DatagramServiceTestbed.StatdPort}/tcp {statd.DisplayName} {statd.Service?.Version} ({statd.Service?.ExtraInfo})");
            Assert.Equal(("rpcbind", "2-4", "RPC #100000"), (rpcbind.Service?.Name, rpcbind.Service?.Version, rpcbind.Service?.ExtraInfo));
            Assert.Equal(("status", "1", "RPC #100024"), (statd.Service?.Name, statd.Service?.Version, statd.Service?.ExtraInfo));
        }
    }

    [DatagramServiceTestbedFact]
    public async Task ProbeTcp_DnsmasqOverTcp_IsNamedThroughTheUdpProbesFallback()
    {
        using var services = new DatagramServiceTestbed();
        foreach (var database in new[] { ServiceProbeParser.ParseFile("/usr/share/nmap/nmap-service-probes"), ProbeDatabases.BuiltIn() })
        {
            var runner = new ServiceProbeRunner(database, new ProbeRunnerOptions(),
                family => services.Bed.Scanner.NewSocket(family, SocketType.Stream, ProtocolType.Tcp));

            var report = await runner.ProbeAsync(new IPEndPoint(services.Address, 53));

            Assert.Equal(("domain", "dnsmasq"), (report.Service?.Name, report.Service?.Product));
            Assert.Matches(@"^\d+\.\d+", report.Service!.Version);
        }
    }
}
