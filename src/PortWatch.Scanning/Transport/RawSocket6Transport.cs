using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Transport;

/// <summary>The SYN engine's seam for IPv6: send TCP segments (the kernel adds the IPv6 header), receive replies without theirs.</summary>
public interface IPacket6Transport : IDisposable
{
    /// <summary>The local IPv6 address the kernel would use to reach the destination (for the TCP checksum).</summary>
    UInt128 SourceAddressFor(UInt128 destination);

    /// <summary>Sends a TCP segment, checksum included, to the destination.</summary>
    void Send(ReadOnlySpan<byte> segment, UInt128 destination);

    /// <summary>Calls <paramref name="onPacket"/> for each TCP segment and ICMPv6 message that can answer a probe, until cancelled.</summary>
    void StartReceiving(Packet6Handler onPacket, CancellationToken cancellationToken);

    /// <summary>As <see cref="IPacketTransport.ReceivedUpTo"/>.</summary>
    long ReceivedUpTo() => System.Diagnostics.Stopwatch.GetTimestamp();
}

/// <summary>A TCP segment or an ICMPv6 message (<paramref name="isIcmp"/>) from <paramref name="source"/>.</summary>
public delegate void Packet6Handler(ReadOnlySpan<byte> payload, UInt128 source, bool isIcmp);

/// <summary>
/// A raw IPv6 TCP socket for sending, and the node's IPv6 <see cref="SharedReceiver"/> (raw TCP
/// and ICMPv6 sockets with BPF filters, <see cref="ReplyFilter.ForTcp6"/> and
/// <see cref="ReplyFilter.ForIcmp6"/>; the source port held) for receiving. Unlike IPv4 there is
/// no header-included mode: the kernel writes the IPv6 header, with the hop limit set on the
/// socket, and the engine writes the TCP header with its checksum. Needs root or CAP_NET_RAW.
/// </summary>
public sealed class RawSocket6Transport : IPacket6Transport
{
    private readonly Socket tcp;
    private readonly SharedReceiver receiver;
    private IDisposable? subscription;
    private readonly Socket routeProbe;
    private readonly SocketAddress destinationAddress = new IPEndPoint(IPAddress.IPv6Any, 0).Serialize();
    private readonly ConcurrentDictionary<UInt128, UInt128> sourceByPrefix = new();
    private readonly Func<UInt128, UInt128, UInt128> findSource;

    public RawSocket6Transport(ushort sourcePort, byte hopLimit = 64)
    {
        // The sending socket gets no replies: a filter that accepts nothing keeps its queue empty (they go to the shared receiver).
        tcp = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Tcp);
        ReplyFilter.Attach(tcp, ReplyFilter.AcceptNothing());
        const int IpprotoIpv6 = 41, Ipv6UnicastHops = 16; // .NET's HopLimit option is refused on raw sockets
        tcp.SetRawSocketOption(IpprotoIpv6, Ipv6UnicastHops, BitConverter.GetBytes((int)hopLimit));
        tcp.SendBufferSize = 4 << 20;
        findSource = FindSource;
        routeProbe = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            receiver = SharedReceiver.Acquire(AddressFamily.InterNetworkV6, sourcePort);
        }
        catch
        {
            tcp.Dispose();
            routeProbe.Dispose();
            throw;
        }
    }

    /// <summary>True when raw IPv6 sockets can be opened here.</summary>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Tcp);
            reason = "raw IPv6 sockets are available";
            return true;
        }
        catch (SocketException ex)
        {
            reason = $"raw IPv6 sockets are not available ({ex.SocketErrorCode}): run as root or grant CAP_NET_RAW";
            return false;
        }
    }

    public UInt128 SourceAddressFor(UInt128 destination) =>
        // One source per /64: a host's addresses in one prefix share a route.
        sourceByPrefix.GetOrAdd(destination >> 64, findSource, destination);

    private UInt128 FindSource(UInt128 prefix, UInt128 destination)
    {
        lock (routeProbe)
        {
            routeProbe.Connect(new IPEndPoint(IpAddressMath.FromUInt128(destination, AddressFamily.InterNetworkV6), 9)); // picks a route; sends nothing
            return IpAddressMath.ToUInt128(((IPEndPoint)routeProbe.LocalEndPoint!).Address);
        }
    }

    public void Send(ReadOnlySpan<byte> segment, UInt128 destination)
    {
        // sockaddr_in6: the address sits at offset 8; the port must stay 0 on a raw socket.
        BinaryPrimitives.WriteUInt128BigEndian(destinationAddress.Buffer.Span[8..], destination);
        while (true)
        {
            try
            {
                tcp.SendTo(segment, SocketFlags.None, destinationAddress);
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Thread.Yield();
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AccessDenied or SocketError.NetworkUnreachable or SocketError.HostUnreachable)
            {
                return; // refused locally (a firewall rule, no route): lost like any packet, retransmitted, in the end filtered
            }
        }
    }

    public long ReceivedUpTo() => receiver.ReceivedUpTo();

    public void StartReceiving(Packet6Handler onPacket, CancellationToken cancellationToken)
    {
        var mine = receiver.Subscribe(onPacket);
        subscription = mine;
        cancellationToken.Register(mine.Dispose);
    }

    public void Dispose()
    {
        tcp?.Dispose();
        routeProbe?.Dispose();
        subscription?.Dispose();
        receiver?.Dispose();
    }
}
