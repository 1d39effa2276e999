using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;
using PortWatch.Scanning.Transport;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>The engines against the netns testbed's ground truth (root only; packets stay inside the test's namespaces).</summary>
public class EngineTestbedTests
{
    private static readonly ScanOptions Fast = new() { RatePps = 50_000, Retries = 3, Timeout = TimeSpan.FromMilliseconds(600), Seed = 11, ReportClosed = true, ReportFiltered = true };

    private static async Task<List<PortResult>> SynScanAsync(NetnsTestbed bed, TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options,
        IProgress<ScanProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var transport = bed.Scanner.Run(() => new RawSocketTransport(options.SourcePort));
        return await SynScanAsync(transport, targets, ports, options, progress, cancellationToken);
    }

    private static async Task<List<PortResult>> SynScanAsync(IPacketTransport transport, TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options,
        IProgress<ScanProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var results = new List<PortResult>();
        try
        {
            await foreach (var r in new SynScanner(transport).ScanAsync(targets, ports, options, progress, cancellationToken))
                results.Add(r);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return results;
    }

    private static async Task<List<PortResult>> ConnectScanAsync(NetnsTestbed bed, TargetSet targets, IReadOnlyList<ushort> ports, ScanOptions options)
    {
        var scanner = new ConnectScanner(family => bed.Scanner.NewSocket(family, SocketType.Stream, ProtocolType.Tcp));
        var results = new List<PortResult>();
        await foreach (var r in scanner.ScanAsync(targets, ports, options))
            results.Add(r);
        return results;
    }

    /// <summary>
    /// The packet socket path: frames built by the kernel from the neighbour table, past the qdisc. The hosts are on-link
    /// and not resolved at the start, so the first probes to each go through the raw socket (the kernel resolves them);
    /// the rest skip the kernel's IP output path. Every verdict is the same as through the raw socket.
    /// </summary>
    [NetnsFact]
    public async Task SynScan_PacketSocketPath_EveryVerdictMatchesNmap()
    {
        using var bed = NetnsTestbed.Create(hosts: 2);
        using var transport = bed.Scanner.Run(() => PacketSocketTransport.Open(Fast.SourcePort, interfaceName: null, out _));
        var packet = Assert.IsType<PacketSocketTransport>(transport);

        var results = await SynScanAsync(transport, bed.Targets(), PortSet.AllTcp.Tcp, Fast);

        Assert.Equal(2 * 65535, results.Count);
        foreach (var host in bed.Hosts)
        {
            var verdicts = results.Where(r => r.Address.Equals(host.Address)).ToDictionary(r => (int)r.Port, r => r.Status);
            var wrong = Enumerable.Range(1, 65535).Where(p => verdicts[p] != host.Expected(p)).Select(p => $"{p}: {verdicts[p]} (expected {host.Expected(p)})").ToList();
            Assert.True(wrong.Count == 0, $"{host.Address}: {string.Join("; ", wrong.Take(20))}");
        }
        Assert.Null(packet.Failure);
        Assert.True(packet.SentViaPacketSocket > 9 * packet.SentViaRawSocket,
            $"{packet.SentViaPacketSocket} probes through the packet socket, {packet.SentViaRawSocket} through the raw socket");
    }

    /// <summary>
    /// IPv6, over the same hosts, listeners and (ip6tables) rules: SYN-ACK open, RST closed, ICMPv6 port unreachable
    /// filtered with its reason, silence filtered after the retransmits. The same cookies, window and verdicts as IPv4.
    /// </summary>
    [NetnsFact]
    public async Task SynScan6_AllPortsOfTwoHosts_EveryVerdictMatchesNmap()
    {
        using var bed = NetnsTestbed.Create(hosts: 2);
        using var transport = bed.Scanner.Run(() => new RawSocket6Transport(Fast.SourcePort));
        var results = new List<PortResult>();

        await foreach (var r in new SynScanner(transport).ScanAsync(bed.Targets6(), PortSet.AllTcp.Tcp, Fast))
            results.Add(r);

        Assert.Equal(2 * 65535, results.Count);
        foreach (var host in bed.Hosts)
        {
            var verdicts = results.Where(r => r.Address.Equals(host.Address6)).ToDictionary(r => (int)r.Port, r => r.Status);
            var wrong = Enumerable.Range(1, 65535).Where(p => verdicts[p] != host.Expected(p)).Select(p => $"{p}: {verdicts[p]} (expected {host.Expected(p)})").ToList();
            Assert.True(wrong.Count == 0, $"{host.Address6}: {string.Join("; ", wrong.Take(20))}");
        }
        Assert.Equal("reset", results.First(r => r.Port == 23).Reason);
        Assert.Equal("syn-ack", results.First(r => r.Port == 22).Reason);
        Assert.Equal("port-unreach", results.First(r => r.Port == NetnsTestbed.RejectIcmpPorts[0]).Reason);
        Assert.True(results.First(r => r.Port == NetnsTestbed.DropWithListener).IsSilence);
    }

    /// <summary>
    /// Two scans at once on one node (two shards, a scan and a re-check) use the same fixed source port: they share one
    /// receiver, each keeps the answers its cookies prove are its own, and both are exact. Each used to open its own
    /// receive sockets and hold the port, and the second could not start.
    /// </summary>
    [NetnsFact]
    public async Task SynScan_TwoScansAtOnceOnOnePort_ShareOneReceiverAndBothAreExact()
    {
        using var bed = NetnsTestbed.Create(hosts: 2);
        using var first = bed.Scanner.Run(() => new RawSocketTransport(Fast.SourcePort));
        using var second = bed.Scanner.Run(() => new RawSocketTransport(Fast.SourcePort));
        var hostA = bed.Hosts[0];
        var hostB = bed.Hosts[1];

        var scans = await Task.WhenAll(
            SynScanAsync(first, TargetSet.Create([hostA.Address.ToString()]), PortSet.AllTcp.Tcp, Fast with { Seed = 101 }),
            SynScanAsync(second, TargetSet.Create([hostB.Address.ToString()]), PortSet.AllTcp.Tcp, Fast with { Seed = 202 }));

        foreach (var (results, host) in new[] { (scans[0], hostA), (scans[1], hostB) })
        {
            Assert.Equal(65535, results.Count);
            Assert.All(results, r => Assert.Equal(host.Address, r.Address));
            var wrong = results.Where(r => r.Status != host.Expected(r.Port)).Select(r => $"{r.Port}: {r.Status}").ToList();
            Assert.True(wrong.Count == 0, $"{host.Address}: {string.Join("; ", wrong.Take(20))}");
        }
    }

    /// <summary>
    /// The scanner's interface goes away mid-scan (a VPN drops, a cable is pulled): probes can no longer be sent, so the
    /// rest go unanswered and are reported as silences, which coverage shows as lost. The scan used to die there with an
    /// unhandled "network is unreachable".
    /// </summary>
    [NetnsFact]
    public async Task SynScan_InterfaceGoneMidScan_FinishesWithTheRestSilent()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        using var transport = bed.Scanner.Run(() => PacketSocketTransport.Open(Fast.SourcePort, interfaceName: null, out _));
        var results = new List<PortResult>();
        var options = Fast with { RatePps = 20_000, Retries = 1, MaxRetries = 1, AdaptRate = false };

        await foreach (var r in new SynScanner(transport).ScanAsync(bed.Targets(), PortSet.AllTcp.Tcp, options))
        {
            results.Add(r);
            if (results.Count == 5_000)
                bed.UnplugScanner();
        }

        Assert.Equal(65535, results.Count);
        Assert.True(results.Count(r => r.IsSilence) > 5_000, $"{results.Count(r => r.IsSilence)} silent");
        Assert.Contains(results, r => r.Status == PortStatus.Open);
    }

    [NetnsFact]
    public async Task SynScan_AllPortsOfTwoHosts_EveryVerdictMatchesNmap()
    {
        using var bed = NetnsTestbed.Create(hosts: 2);

        var results = await SynScanAsync(bed, bed.Targets(), PortSet.AllTcp.Tcp, Fast);

        Assert.Equal(2 * 65535, results.Count);
        foreach (var host in bed.Hosts)
        {
            var verdicts = results.Where(r => r.Address.Equals(host.Address)).ToDictionary(r => (int)r.Port, r => r.Status);
            var wrong = Enumerable.Range(1, 65535).Where(p => verdicts[p] != host.Expected(p))
                .Select(p => $"{p}: {verdicts[p]} (expected {host.Expected(p)})").ToList();
            Assert.True(wrong.Count == 0, $"{host.Address}: {string.Join("; ", wrong.Take(20))}");
        }
        var rst = results.First(r => r.Port == 23);
        Assert.Equal(("reset", PortStatus.Closed), (rst.Reason, rst.Status));                 // REJECT --reject-with tcp-reset
        Assert.Equal("syn-ack", results.First(r => r.Port == 22).Reason);
        Assert.Equal((byte)64, results.First(r => r.Port == 22).Ttl);
        Assert.True(results.First(r => r.Port == NetnsTestbed.DropWithListener).IsSilence); // DROP hides the listener
    }

    [NetnsFact]
    public async Task SynScan_OnePercentLoss_FindsEveryOpenPortAndNoFalseOne()
    {
        using var bed = NetnsTestbed.Create(hosts: 2);
        bed.SetLoss(1);

        var results = await SynScanAsync(bed, bed.Targets(), PortSet.AllTcp.Tcp, Fast with { Retries = 4 });

        foreach (var host in bed.Hosts)
        {
            var open = results.Where(r => r.Address.Equals(host.Address) && r.Status == PortStatus.Open).Select(r => (int)r.Port).Order();
            Assert.Equal(host.OpenPorts.Order(), open);
        }
    }

    [NetnsFact]
    public async Task ConnectScan_AllPorts_MatchesNmapWhereConnectCanTell()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        var host = bed.Hosts[0];

        var results = await ConnectScanAsync(bed, bed.Targets(), PortSet.AllTcp.Tcp,
            Fast with { RatePps = 20_000, Retries = 1, Timeout = TimeSpan.FromMilliseconds(500) });

        Assert.Equal(65535, results.Count);
        var verdicts = results.ToDictionary(r => (int)r.Port, r => r.Status);
        foreach (var port in Enumerable.Range(1, 65535))
        {
            if (NetnsTestbed.RejectIcmpPorts.Contains(port))
            {
                // Linux reports an ICMP port-unreachable to connect() as "refused": the socket API cannot tell it from a RST.
                Assert.Contains(verdicts[port], new[] { PortStatus.Closed, PortStatus.Filtered });
                continue;
            }
            Assert.True(verdicts[port] == host.Expected(port), $"port {port}: {verdicts[port]}, expected {host.Expected(port)}");
        }
    }

    [NetnsFact]
    public async Task ConnectScan_OwnAddressOverEphemeralRange_ReportsOnlyRealListeners()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        using var listener = bed.Scanner.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(bed.ScannerAddress, 45000));
            s.Listen(16);
            return s;
        });
        var ephemeral = Enumerable.Range(32768, 60999 - 32768 + 1).Select(p => (ushort)p).ToArray();

        var results = await ConnectScanAsync(bed, TargetSet.Create([bed.ScannerAddress.ToString()]), ephemeral,
            Fast with { RatePps = 50_000, Retries = 0, Concurrency = 256 });

        Assert.Equal([(ushort)45000], results.Where(r => r.Status == PortStatus.Open).Select(r => r.Port));
    }

    [NetnsFact]
    public async Task SynScan_StoppedHalfwayAndResumed_FindsTheSameOpenSet()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        var targets = bed.Targets();
        var options = Fast with { Window = 4096, RatePps = 20_000 };
        var full = await SynScanAsync(bed, targets, PortSet.AllTcp.Tcp, options);

        using var stop = new CancellationTokenSource();
        ulong checkpoint = 0;
        var firstPart = await SynScanAsync(bed, targets, PortSet.AllTcp.Tcp, options, new SynchronousProgress<ScanProgress>(p =>
        {
            checkpoint = p.CheckpointPosition;
            if (p.CheckpointPosition >= 30_000)
                stop.Cancel();
        }), stop.Token);
        Assert.InRange(checkpoint, 30_000UL, 65_000UL);
        var secondPart = await SynScanAsync(bed, targets, PortSet.AllTcp.Tcp, options with { StartPosition = checkpoint });

        static IEnumerable<int> Open(IEnumerable<PortResult> rs) => rs.Where(r => r.Status == PortStatus.Open).Select(r => (int)r.Port).Distinct().Order();
        Assert.Equal(Open(full), Open(firstPart.Concat(secondPart)));
        Assert.Equal(bed.Hosts[0].OpenPorts.Order(), Open(full));
        Assert.True(secondPart.Count < 65535, "the resumed scan must not start over");
    }

    [NetnsFact]
    public async Task SynScan_Cancelled_StopsWithinASecond()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        using var stop = new CancellationTokenSource();
        var slow = Fast with { RatePps = 2_000 }; // would take over 30 s
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Measured from the moment the cancellation fires: a timer may fire a fraction of a millisecond before the stopwatch
        // reads 700 ms (CI saw 699.8 ms), which said nothing about the engine.
        TimeSpan? cancelledAt = null;
        using var registration = stop.Token.Register(() => cancelledAt = clock.Elapsed);
        stop.CancelAfter(TimeSpan.FromMilliseconds(700));

        var results = await SynScanAsync(bed, bed.Targets(), PortSet.AllTcp.Tcp, slow, cancellationToken: stop.Token);

        var ended = clock.Elapsed;
        Assert.NotNull(cancelledAt); // it ran until it was cancelled, not less
        Assert.InRange(ended - cancelledAt.Value, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.InRange(results.Count, 1, 10_000);
    }

    [NetnsFact]
    public async Task UdpScan_TestbedPorts_GivesNmapUdpStates()
    {
        using var bed = NetnsTestbed.Create(hosts: 1);
        var scanner = new PortWatch.Scanning.Udp.UdpScanner(family => bed.Scanner.NewSocket(family, SocketType.Dgram, ProtocolType.Udp));
        ushort[] ports = [NetnsTestbed.UdpResponder, NetnsTestbed.UdpSilent, NetnsTestbed.UdpDropped, NetnsTestbed.UdpClosed];
        var results = new List<PortResult>();

        await foreach (var r in scanner.ScanAsync(bed.Targets(), ports, Fast with { Retries = 1, Timeout = TimeSpan.FromMilliseconds(400) }))
            results.Add(r);

        var verdicts = results.ToDictionary(r => (int)r.Port, r => (r.Status, r.Reason));
        Assert.Equal((PortStatus.Open, "udp-response"), verdicts[NetnsTestbed.UdpResponder]);
        Assert.Equal((PortStatus.OpenFiltered, "no-response"), verdicts[NetnsTestbed.UdpSilent]);
        Assert.Equal((PortStatus.OpenFiltered, "no-response"), verdicts[NetnsTestbed.UdpDropped]);
        Assert.Equal((PortStatus.Closed, "port-unreach"), verdicts[NetnsTestbed.UdpClosed]);
        Assert.All(results, r => Assert.Equal(PortProtocol.Udp, r.Protocol));
    }
}
