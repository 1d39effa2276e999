using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PortWatch.Tests.Shared;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Flows;

namespace PortWatch.Web.Tests.Flows;

/// <summary>
/// IPFIX sent over loopback to the real host's collector: a flow to a new listener on an asset
/// gives a checked, confirmed finding "detected by flow" and an alert; flows of the asset's own
/// outbound connections, and exporters not allowed, give nothing.
/// </summary>
public sealed class FlowCheckTests : IAsyncLifetime
{
    private readonly WebhookSink webhook = new();
    private readonly LoopbackListener listener = new();
    private readonly int collectorPort = FreePorts.Udp();
    private PortWatchAppFactory app = null!;


    public async Task InitializeAsync()
    {
        app = PortWatchAppFactory.Create(settings: new Dictionary<string, string?>
        {
            ["Flows:Enabled"] = "true",
            ["Flows:Port"] = collectorPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Flows:ListenAddress"] = "127.0.0.1",
            ["Flows:AllowedExporters:0"] = "127.0.0.1",
            ["Alerts:RecheckTimeoutMs"] = "2000",
        });
        await using var db = await app.CreateDbContextAsync();
        db.Assets.Add(TestAssets.For("127.0.0.1", "loopback", "ops"));
        db.RiskRules.Add(new RiskRule { Port = listener.Port, Protocol = TransportProtocol.Tcp, Name = "Test admin API", Severity = Severity.Critical });
        db.AlertChannels.Add(new AlertChannel { Name = "soc", Kind = AlertChannelKind.Webhook, Target = webhook.Url, MinimumSeverity = Severity.High, CreatedAt = DateTime.UtcNow });
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        webhook.Dispose();
        listener.Dispose();
    }

    /// <summary>One IPFIX message: a template (srcaddr, dstaddr, srcport, dstport, protocol) and one data record per flow.</summary>
    private static byte[] Ipfix(params (string Src, int SrcPort, string Dst, int DstPort)[] flows) => Ipfix(6, flows);

    private static byte[] Ipfix(byte protocol, params (string Src, int SrcPort, string Dst, int DstPort)[] flows)
    {
        var p = new List<byte>();
        void U8(int v) => p.Add((byte)v);
        void U16(int v) { p.Add((byte)(v >> 8)); p.Add((byte)v); }
        void U32(uint v) { U16((int)(v >> 16)); U16((int)(v & 0xffff)); }
        U16(10); U16(0); U32(1764590400); U32(1); U32(1);
        U16(2); U16(4 + 4 + 5 * 4); U16(256); U16(5); U16(8); U16(4); U16(12); U16(4); U16(7); U16(2); U16(11); U16(2); U16(4); U16(1);
        U16(256); U16(4 + 13 * flows.Length);
        foreach (var (src, sport, dst, dport) in flows)
        {
            p.AddRange(IPAddress.Parse(src).GetAddressBytes());
            p.AddRange(IPAddress.Parse(dst).GetAddressBytes());
            U16(sport); U16(dport); U8(protocol);
        }
        p[2] = (byte)(p.Count >> 8);
        p[3] = (byte)p.Count;
        return [.. p];
    }

    /// <summary>IPFIX with TCP flags (tcpControlBits, one octet): template 257 with six fields.</summary>
    private static byte[] IpfixWithFlags(params (string Src, int SrcPort, string Dst, int DstPort, byte Flags)[] flows)
    {
        var p = new List<byte>();
        void U8(int v) => p.Add((byte)v);
        void U16(int v) { p.Add((byte)(v >> 8)); p.Add((byte)v); }
        void U32(uint v) { U16((int)(v >> 16)); U16((int)(v & 0xffff)); }
        U16(10); U16(0); U32(1764590400); U32(2); U32(1);
        U16(2); U16(4 + 4 + 6 * 4); U16(257); U16(6); U16(8); U16(4); U16(12); U16(4); U16(7); U16(2); U16(11); U16(2); U16(4); U16(1); U16(6); U16(1);
        U16(257); U16(4 + 14 * flows.Length);
        foreach (var (src, sport, dst, dport, flags) in flows)
        {
            p.AddRange(IPAddress.Parse(src).GetAddressBytes());
            p.AddRange(IPAddress.Parse(dst).GetAddressBytes());
            U16(sport); U16(dport); U8(6); U8(flags);
        }
        p[2] = (byte)(p.Count >> 8);
        p[3] = (byte)p.Count;
        return [.. p];
    }

    [Theory]
    [InlineData(false, 0x02, false)] // a client's SYN alone: nothing answered (a sweep of every port)
    [InlineData(false, 0x06, false)] // SYN and RST: a half-open probe
    [InlineData(false, 0x1A, true)]  // SYN, ACK, PSH: a connection was made
    [InlineData(true, 0x14, false)]  // the server's RST-ACK: closed
    [InlineData(true, 0x12, true)]   // the server's SYN-ACK: it answered
    [InlineData(true, 0x18, true)]   // the server sending data (a long flow's later record)
    [InlineData(false, 0x00, true)]  // no flags exported: the check decides
    public void ShowsConnection_TcpFlags_OnlyFlowsWithAnAnswerAreWorthACheck(bool serverIsSource, byte flags, bool expected)
    {
        var flow = new FlowRecord(0, 0, 1, 2, FlowRecord.Tcp, flags, 1, 60);
        Assert.Equal(expected, FlowCollector.ShowsConnection(flow, serverIsSource));
    }

    [Fact]
    public async Task Flow_SynOnlySweepOfAListener_IsNotCheckedAndAConnectionIs()
    {
        _ = app.Services;
        var statistics = app.Services.GetRequiredService<FlowStatistics>();
        using var other = new LoopbackListener();

        // A sweep's SYN to the first listener (no answer in the flow), then a real connection to the second.
        await SendAsync(IpfixWithFlags(("127.0.0.1", 50001, "127.0.0.1", listener.Port, 0x02), ("127.0.0.1", 50002, "127.0.0.1", other.Port, 0x1B)));

        await Eventually.WaitAsync(() => Task.FromResult(statistics.RecentChecks.Any(c => c.Port == other.Port)), seen => seen, TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(statistics.RecentChecks, c => c.Port == listener.Port);
    }

    /// <summary>
    /// A client behind a carrier-grade NAT comes from a port below the service's (1500 to 2xxxx): the lower port is not
    /// the server's here, and the flow is worth a check of the asset's side as well.
    /// </summary>
    [Fact]
    public async Task Flow_ClientPortBelowTheServicesPort_IsCheckedOnTheServicesSide()
    {
        _ = app.Services;
        var statistics = app.Services.GetRequiredService<FlowStatistics>();
        using var service = LoopbackListener.OnPortBelow(FlowCollector.EphemeralPortsFrom);

        await SendAsync(IpfixWithFlags(("203.0.113.9", 1500, "127.0.0.1", service.Port, 0x1B), ("127.0.0.1", 40001, "203.0.113.10", 8443, 0x1B)));

        var check = await Eventually.WaitAsync(() => Task.FromResult(statistics.RecentChecks.FirstOrDefault(c => c.Port == service.Port)), c => c is not null, TimeSpan.FromSeconds(30));
        Assert.StartsWith("open", check!.Outcome, StringComparison.Ordinal);
        // The asset's own connection from an ephemeral port to a remote service on a high port is not checked.
        Assert.DoesNotContain(statistics.RecentChecks, c => c.Port == 40001);
    }

    private async Task SendAsync(byte[] packet, string from = "127.0.0.1")
    {
        using var exporter = new UdpClient(new IPEndPoint(IPAddress.Parse(from), 0));
        await exporter.SendAsync(packet, new IPEndPoint(IPAddress.Loopback, collectorPort));
    }

    [Fact]
    public async Task Flow_ToANewListenerOnAnAsset_IsCheckedAndBecomesAnAlertedFindingDetectedByFlow()
    {
        _ = app.Services; // start the host and its collector
        var statistics = app.Services.GetRequiredService<FlowStatistics>();
        var closed = FreePorts.Tcp();

        // Outbound from the asset only (its ephemeral port to a web server), both directions; and a client's flow to a closed port.
        await SendAsync(Ipfix(("127.0.0.1", 51515, "203.0.113.5", 80), ("203.0.113.5", 80, "127.0.0.1", 51515), ("127.0.0.1", 65000, "127.0.0.1", closed)));
        // A client connecting to the new listener.
        await SendAsync(Ipfix(("127.0.0.1", 50000, "127.0.0.1", listener.Port)));

        var finding = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.Findings.AsNoTracking().FirstOrDefaultAsync(f => f.Port == listener.Port);
        }, f => f is not null, TimeSpan.FromSeconds(30));
        var body = await Eventually.WaitAsync(() => Task.FromResult(webhook.Bodies.FirstOrDefault()), b => b is not null, TimeSpan.FromSeconds(30));

        Assert.Equal((PortState.Open, Severity.Critical), (finding!.CurrentState, finding.Severity));
        await using (var db = await app.CreateDbContextAsync())
        {
            var run = await db.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == finding.LastRunId);
            Assert.Equal(ScanTrigger.Flow, run.Trigger);
            Assert.Contains("detected by flow", run.Notes);
            Assert.Equal(1, await db.Findings.CountAsync()); // nothing for the outbound port, the closed port or the remote web server
        }
        using var json = JsonDocument.Parse(body!);
        Assert.Equal(listener.Port, json.RootElement.GetProperty("items")[0].GetProperty("port").GetInt32());
        var checks = statistics.RecentChecks;
        Assert.Contains(checks, c => c.Port == closed && !c.Outcome.StartsWith("open", StringComparison.Ordinal));
        Assert.DoesNotContain(checks, c => c.Port == 51515);
        Assert.Equal(2, statistics.Of(IPAddress.Loopback).Packets);
    }

    [Fact]
    public async Task Flow_UdpToAResponderOnAnAsset_BecomesAUdpFindingAndASilentUdpPortDoesNot()
    {
        _ = app.Services;
        var statistics = app.Services.GetRequiredService<FlowStatistics>();
        using var responder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)responder.Client.LocalEndPoint!).Port;
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var datagram = await responder.ReceiveAsync(stop.Token);
                    await responder.SendAsync("pong"u8.ToArray(), datagram.RemoteEndPoint, stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)); // bound, never answers: open|filtered, not a finding
        var silentPort = ((IPEndPoint)silent.Client.LocalEndPoint!).Port;
        await using (var db = await app.CreateDbContextAsync())
        {
            db.RiskRules.Add(new RiskRule { Port = udpPort, Protocol = TransportProtocol.Udp, Name = "Test memcached (UDP)", Severity = Severity.Critical });
            await db.SaveChangesAsync();
        }

        await SendAsync(Ipfix(17, ("127.0.0.1", 65001, "127.0.0.1", udpPort), ("127.0.0.1", 65002, "127.0.0.1", silentPort)));

        var finding = await Eventually.WaitAsync(async () =>
        {
            await using var db = await app.CreateDbContextAsync();
            return await db.Findings.AsNoTracking().FirstOrDefaultAsync(f => f.Port == udpPort);
        }, f => f is not null, TimeSpan.FromSeconds(30));
        await Eventually.WaitAsync(() => Task.FromResult(statistics.RecentChecks.Count), n => n >= 2, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await answering;

        Assert.Equal((TransportProtocol.Udp, PortState.Open, Severity.Critical), (finding!.Protocol, finding.CurrentState, finding.Severity));
        Assert.Contains(statistics.RecentChecks, c => c.Port == silentPort && c.Protocol == TransportProtocol.Udp && c.Outcome.StartsWith("no answer", StringComparison.Ordinal));
        await using (var db = await app.CreateDbContextAsync())
            Assert.False(await db.Findings.AnyAsync(f => f.Port == silentPort));
    }

    [Fact]
    public async Task Flow_FromAnExporterNotAllowed_IsRefusedAndCounted()
    {
        _ = app.Services;
        var statistics = app.Services.GetRequiredService<FlowStatistics>();

        await SendAsync(Ipfix(("127.0.0.1", 50000, "127.0.0.1", listener.Port)), from: "127.0.0.2");

        await Eventually.WaitAsync(() => Task.FromResult(Interlocked.Read(ref statistics.RefusedPackets)), n => n >= 1, TimeSpan.FromSeconds(10));
        await using var db = await app.CreateDbContextAsync();
        Assert.False(await db.Findings.AnyAsync());
    }

}
