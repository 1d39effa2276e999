using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Packets;
using PortWatch.Scanning.Transport;
using PortWatch.Tests.Shared;

namespace PortWatch.Scanning.Tests.Transport;

/// <summary>
/// The raw receive sockets get only what can answer a probe: TCP to the scan's source port and
/// ICMP unreachables quoting a TCP header from it. Root only; every packet here goes to 127.0.0.1.
/// </summary>
public class ReplyFilterTests
{
    private const ushort SourcePort = 61_917;

    /// <summary>What reached the handler: (IP protocol, ICMP type or 0, TCP port that matters).</summary>
    private static (byte Protocol, byte IcmpType, ushort Port) Describe(ReadOnlySpan<byte> packet)
    {
        var header = (packet[0] & 0xF) * 4;
        return packet[9] switch
        {
            6 => (6, 0, BinaryPrimitives.ReadUInt16BigEndian(packet[(header + 2)..])),
            1 when packet.Length >= header + 30 => (1, packet[header], BinaryPrimitives.ReadUInt16BigEndian(packet[(header + 28)..])),
            var other => (other, 0, 0),
        };
    }

    private static void Connect(int port)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            client.Connect(new IPEndPoint(IPAddress.Loopback, port)); // refused: a SYN in, a RST out
        }
        catch (SocketException)
        {
        }
    }

    /// <summary>An ICMP port unreachable quoting a 20-byte IP header and a TCP header from <paramref name="tcpSourcePort"/>, or quoting UDP.</summary>
    private static byte[] Unreachable(ushort tcpSourcePort, byte quotedProtocol)
    {
        var icmp = new byte[8 + 20 + 8];
        icmp[0] = 3;
        icmp[1] = 3;
        icmp[8] = 0x45;
        icmp[8 + 9] = quotedProtocol;
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(8 + 12), 0x7F000001);
        BinaryPrimitives.WriteUInt32BigEndian(icmp.AsSpan(8 + 16), 0x7F000001);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(28), tcpSourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(30), 80);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), InternetChecksum.Compute(icmp));
        return icmp;
    }

    [RawSocketFact]
    public async Task StartReceiving_OtherTrafficOnTheHost_OnlyAnswersToTheSourcePortArrive()
    {
        var seen = new ConcurrentQueue<(byte Protocol, byte IcmpType, ushort Port)>();
        using var transport = new RawSocketTransport(SourcePort);
        using var stop = new CancellationTokenSource();
        transport.StartReceiving(packet => seen.Enqueue(Describe(packet)), stop.Token);

        using var icmp = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        // Traffic that is no answer to a probe: connections to other ports, an echo request, unreachables about UDP and about another port.
        Connect(SourcePort + 1);
        Connect(SourcePort + 2);
        var echo = new byte[8];
        echo[0] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(2), InternetChecksum.Compute(echo));
        icmp.SendTo(echo, loopback);
        icmp.SendTo(Unreachable(SourcePort, quotedProtocol: 17), loopback);
        icmp.SendTo(Unreachable(SourcePort + 1, quotedProtocol: 6), loopback);
        // And what is: a segment to the source port, an unreachable about a probe from it.
        Connect(SourcePort);
        icmp.SendTo(Unreachable(SourcePort, quotedProtocol: 6), loopback);

        var arrived = await Eventually.WaitAsync(() => Task.FromResult(seen.ToArray()),
            s => s.Any(p => p.Protocol == 6) && s.Any(p => p.Protocol == 1), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        stop.Cancel();

        Assert.Contains(arrived, p => p == (6, 0, SourcePort));
        Assert.Contains(arrived, p => p == (1, 3, SourcePort));
        Assert.All(arrived, p => Assert.True(p is (6, 0, SourcePort) or (1, 3, SourcePort), $"{p} is no answer to a probe from port {SourcePort}"));
    }
}

/// <summary>A fact that needs raw sockets (root or CAP_NET_RAW); skipped with the reason otherwise.</summary>
public sealed class RawSocketFactAttribute : FactAttribute
{
    public RawSocketFactAttribute()
    {
        if (!RawSocketTransport.IsAvailable(out var reason))
            Skip = reason;
    }
}
