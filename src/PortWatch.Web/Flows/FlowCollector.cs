using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;

namespace PortWatch.Web.Flows;

/// <summary>An asset's address and port that flow data shows answering, and the flow that showed it.</summary>
public readonly record struct FlowCandidate(IPAddress Address, int Port, TransportProtocol Protocol, IPAddress Exporter, string Flow);

/// <summary>
/// The UDP collector (Flows section): reads NetFlow v5, v9 and IPFIX from the allowed exporters,
/// and turns flows in which an enabled asset's address answers on a TCP or UDP port without an open
/// finding into candidates for <see cref="FlowChecker"/>.
///
/// Direction: a host's own outbound connections produce flows from its address too, so a flow is
/// read as "the side with the lower port is the server" (clients use high, ephemeral ports), and,
/// when that lower port is 1024 or above, the other side too if its port is below 32768 (a client
/// behind a carrier-grade NAT may come from port 1500 to a service on 8080). That only decides
/// what is worth checking; the connect check judges, and an outbound connection's ephemeral port
/// is found closed. Each address and port is checked at most once per
/// Flows:RecheckMinutes.
///
/// Concurrency: one receive loop owns the decoder and the caches; the checker reads the channel.
/// </summary>
/// <remarks>
/// Not every flow is worth a check. Where the exporter sends TCP flags, a flow that shows no
/// connection is skipped: a client's SYN alone or SYN and RST (a probe, an internet-wide scan
/// sweeping every port), a server's RST (a closed port). Otherwise one attacker's port sweep
/// would queue a check of every port it touched, and crowd out the flow that matters. Flows
/// with one of the scanner's own addresses (its probes cross the same routers) are skipped too.
/// </remarks>
public sealed class FlowCollector(IOptions<FlowsOptions> options, FlowStatistics statistics, IDbContextFactory<PortWatchDbContext> dbFactory, ScanScope scope,
    ScannerAddresses scannerAddresses, IOptions<ScanningOptions> scanning, FlowCheckQueue queue, TimeProvider clock, ILogger<FlowCollector> logger) : BackgroundService
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);
    private readonly Dictionary<(UInt128 Address, int Port, byte Protocol), DateTime> recentlyQueued = new();
    private List<IpRange> allowedExporters = [];
    private List<IpRange> assets = [];
    private ScopeGuard scopeGuard = ScopeGuard.AllowAll;
    private HashSet<(string Key, int Port, TransportProtocol Protocol)> openFindings = [];
    private IReadOnlyList<IpRange> ownAddresses = [];
    private DateTime cachesAt = DateTime.MinValue;

    /// <summary>The port the collector listens on once started (Flows:Port, or the one the system picked for 0).</summary>
    public int? BoundPort { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled)
            return;
        allowedExporters = o.AllowedExporters.Select(IpRange.Parse).ToList();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
        socket.Bind(new IPEndPoint(IPAddress.Parse(o.ListenAddress), o.Port));
        BoundPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        logger.LogInformation("Flow collector listening on UDP {Address}:{Port} for {Exporters}", o.ListenAddress, BoundPort, string.Join(", ", o.AllowedExporters));
        var decoder = new FlowDecoder(clock);
        var buffer = new byte[65536];
        var flows = new List<FlowRecord>(256);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stoppingToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException ex)
            {
                logger.LogWarning("Flow collector: {Error}", ex.Message);
                continue;
            }
            var exporter = ((IPEndPoint)received.RemoteEndPoint).Address;
            if (exporter.IsIPv4MappedToIPv6)
                exporter = exporter.MapToIPv4();
            if (!allowedExporters.Any(r => r.Contains(exporter)))
            {
                Interlocked.Increment(ref statistics.RefusedPackets);
                continue;
            }
            var stats = statistics.Of(exporter);
            stats.Packets++;
            stats.LastPacketAt = clock.GetUtcNow().UtcDateTime;
            flows.Clear();
            var drop = decoder.Decode(buffer.AsSpan(0, received.ReceivedBytes), exporter, flows);
            if (drop != FlowDrop.None)
                stats.Drops.AddOrUpdate(drop, 1, (_, n) => n + 1);
            stats.Flows += flows.Count;
            stats.Templates = decoder.TemplatesOf(exporter);
            if (flows.Count == 0)
                continue;
            await RefreshCachesAsync(stoppingToken);
            foreach (var flow in flows)
                Consider(flow, exporter, stats);
        }
    }

    private void Consider(FlowRecord flow, IPAddress exporter, ExporterStatistics stats)
    {
        // TCP and UDP: a UDP service (DNS, SNMP, memcached) answers from its well-known port as a TCP one does.
        if (flow.Protocol is not (FlowRecord.Tcp or FlowRecord.Udp))
            return;
        // The lower port is the server's; equal ports say nothing.
        if (flow.SourcePort == flow.DestinationPort)
            return;
        var lowerIsSource = flow.SourcePort < flow.DestinationPort;
        ConsiderSide(flow, serverIsSource: lowerIsSource, exporter, stats);
        // A lower port of 1024 and above is as likely a client's (a carrier-grade NAT hands out ports from 1024 up) as a
        // service's: the higher side is read as a server too if it is below the usual ephemeral ranges.
        var (lower, higher) = lowerIsSource ? (flow.SourcePort, flow.DestinationPort) : (flow.DestinationPort, flow.SourcePort);
        if (lower >= 1024 && higher < EphemeralPortsFrom)
            ConsiderSide(flow, serverIsSource: !lowerIsSource, exporter, stats);
    }

    /// <summary>Where clients' ephemeral ports usually start (Linux's 32768; Windows and IANA start at 49152).</summary>
    internal const int EphemeralPortsFrom = 32768;

    private void ConsiderSide(FlowRecord flow, bool serverIsSource, IPAddress exporter, ExporterStatistics stats)
    {
        if (!ShowsConnection(flow, serverIsSource))
            return;
        if (IsScannersOwn(serverIsSource ? flow.Destination : flow.Source, serverIsSource ? flow.DestinationPort : flow.SourcePort))
            return;
        if (serverIsSource)
            Candidate(flow.Source, flow.SourcePort, flow, exporter, stats);
        else
            Candidate(flow.Destination, flow.DestinationPort, flow, exporter, stats);
    }

    /// <summary>
    /// The client side is this scanner: its SYN probes (from Scanning:SourcePort) and, while it does not scan itself
    /// (Scanning:ExcludeScannerAddresses), anything from its addresses: its own checks must not queue more checks.
    /// </summary>
    private bool IsScannersOwn(UInt128 client, int clientPort)
    {
        if (ownAddresses.Count == 0 || !ownAddresses.Any(r => r.Contains(FlowRecord.ToAddress(client))))
            return false;
        return scanning.Value.ExcludeScannerAddresses || clientPort == scanning.Value.SourcePort;
    }

    /// <summary>
    /// Whether a TCP flow's flags (ORed over the flow) show the server answering or a connection made: the server's side
    /// with an ACK and not just a reset (a SYN-ACK, or data), the client's side with an ACK (the handshake completed).
    /// UDP, and exporters that send no flags, are always worth the check.
    /// </summary>
    internal static bool ShowsConnection(FlowRecord flow, bool serverIsSource)
    {
        const byte Syn = 0x02, Rst = 0x04, Ack = 0x10;
        if (flow.Protocol != FlowRecord.Tcp || flow.TcpFlags == 0)
            return true;
        var flags = flow.TcpFlags;
        if ((flags & Ack) == 0)
            return false; // a SYN alone, or SYN and RST: nothing answered, or a scanner's half-open probe
        return !serverIsSource || (flags & Syn) != 0 || (flags & Rst) == 0; // a server's RST-ACK alone is a closed port
    }

    private void Candidate(UInt128 address, int port, FlowRecord flow, IPAddress exporter, ExporterStatistics stats)
    {
        if (port == 0)
            return;
        var now = clock.GetUtcNow().UtcDateTime;
        if (recentlyQueued.TryGetValue((address, port, flow.Protocol), out var queuedAt) && now - queuedAt < TimeSpan.FromMinutes(options.Value.RecheckMinutes))
            return;
        var ip = FlowRecord.ToAddress(address);
        if (!assets.Any(a => a.Contains(ip)) || !scopeGuard.Allows(ip))
            return;
        var protocol = flow.Protocol == FlowRecord.Udp ? TransportProtocol.Udp : TransportProtocol.Tcp;
        if (openFindings.Contains((IpKey.From(ip), port, protocol)))
            return;
        if (recentlyQueued.Count > 100_000)
            recentlyQueued.Clear();
        recentlyQueued[(address, port, flow.Protocol)] = now;
        stats.Candidates++;
        var text = $"{protocol.Name()} {flow.SourceAddress}:{flow.SourcePort} → {flow.DestinationAddress}:{flow.DestinationPort}";
        if (!queue.Writer.TryWrite(new FlowCandidate(ip, port, protocol, exporter, text)))
            Interlocked.Increment(ref statistics.QueueDrops);
    }

    /// <summary>Enabled assets, the scope and the open findings, re-read every half minute (and at once after a check found a port).</summary>
    private async Task RefreshCachesAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (now - cachesAt < CacheLifetime && !queue.CachesStale)
            return;
        queue.CachesStale = false;
        cachesAt = now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        assets = (await db.Assets.AsNoTracking().Where(a => a.Enabled).Select(a => a.Target).ToListAsync(cancellationToken)).Select(IpRange.Parse).ToList();
        openFindings = (await db.Findings.AsNoTracking().Where(f => f.CurrentState == PortState.Open && f.Kind == FindingKind.Port)
            .Select(f => new { f.AddressKey, f.Port, f.Protocol }).ToListAsync(cancellationToken)).Select(f => (f.AddressKey, f.Port, f.Protocol)).ToHashSet();
        scopeGuard = new ScopeGuard(await scope.AllowedAsync(cancellationToken));
        ownAddresses = scannerAddresses.Current();
    }
}

/// <summary>The bounded queue between the collector and the checker (a flood of flows cannot hold memory).</summary>
public sealed class FlowCheckQueue
{
    private readonly Channel<FlowCandidate> channel = Channel.CreateBounded<FlowCandidate>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public ChannelWriter<FlowCandidate> Writer => channel.Writer;

    public ChannelReader<FlowCandidate> Reader => channel.Reader;

    /// <summary>Set by the checker after it made a finding, so the collector re-reads the open findings before its next packet.</summary>
    public volatile bool CachesStale;
}
