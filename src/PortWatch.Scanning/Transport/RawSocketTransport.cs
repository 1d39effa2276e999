using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Transport;

/// <summary>
/// Raw IPv4 sockets: one TCP socket with IP_HDRINCL for sending, and for receiving the node's
/// <see cref="SharedReceiver"/> (raw TCP and ICMP sockets: Linux hands raw sockets a copy of every
/// incoming packet of their protocol; a BPF filter on each keeps only the answers to the source
/// port, <see cref="ReplyFilter"/>), shared by every scan running at once. Needs root or CAP_NET_RAW.
///
/// The local kernel sees the SYN-ACKs too and, having no socket for our source port, answers
/// them with RST. That is what nmap relies on as well: it tears down the half-open connection on
/// the target at once. It is harmless as long as no local program uses the source port, which is
/// why that port sits outside the ephemeral range and is held by a bound socket for the scan.
/// </summary>
public sealed class RawSocketTransport : IPacketTransport
{
    private readonly Socket sender;
    private readonly SharedReceiver receiver;
    private IDisposable? subscription;
    private readonly Socket routeProbe;
    private readonly SocketAddress destinationAddress = new IPEndPoint(IPAddress.Any, 0).Serialize();
    private readonly ConcurrentDictionary<uint, uint> sourceBySubnet = new();
    private long locallyDropped;

    /// <summary>Probes a local firewall refused to send.</summary>
    public long LocallyDropped => Interlocked.Read(ref locallyDropped);

    public RawSocketTransport(ushort sourcePort)
    {
        sender = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp);
        // A raw TCP socket gets a copy of every incoming segment; this one only sends, so it keeps none (the shared receiver reads them).
        ReplyFilter.Attach(sender, ReplyFilter.AcceptNothing());
        sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
        sender.SendBufferSize = 4 << 20;
        findSource = FindSource;
        // Created now, like every socket here, so all of them live in the caller's network namespace.
        routeProbe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            receiver = SharedReceiver.Acquire(AddressFamily.InterNetwork, sourcePort);
        }
        catch
        {
            sender.Dispose();
            routeProbe.Dispose();
            throw;
        }
    }

    /// <summary>True when this process may open raw sockets (root or CAP_NET_RAW).</summary>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp);
            reason = "raw sockets are available";
            return true;
        }
        catch (SocketException ex)
        {
            reason = $"raw sockets are not available ({ex.SocketErrorCode}): run as root or grant CAP_NET_RAW";
            return false;
        }
    }

    // One delegate for the transport: a lambda using the route probe would be a new one on every call.
    private readonly Func<uint, uint, uint> findSource;

    public uint SourceAddressFor(uint destination) =>
        // The route, and so the source, is the same for a whole /24 in any sane network.
        sourceBySubnet.GetOrAdd(destination & 0xFFFFFF00, findSource, destination);

    private uint FindSource(uint subnet, uint destination)
    {
        lock (routeProbe)
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, destination);
            routeProbe.Connect(new IPEndPoint(new IPAddress(bytes), 9)); // no packet is sent: connect() on UDP only picks a route
            var local = ((IPEndPoint)routeProbe.LocalEndPoint!).Address.GetAddressBytes();
            return BinaryPrimitives.ReadUInt32BigEndian(local);
        }
    }

    public void Send(ReadOnlySpan<byte> packet, uint destination)
    {
        // sockaddr_in: the IPv4 address sits at offset 4; reusing one SocketAddress keeps the send path allocation-free.
        BinaryPrimitives.WriteUInt32BigEndian(destinationAddress.Buffer.Span[4..], destination);
        while (true)
        {
            try
            {
                sender.SendTo(packet, SocketFlags.None, destinationAddress);
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Thread.Yield(); // the qdisc is full: wait for it to drain rather than lose the probe
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AccessDenied or SocketError.NetworkUnreachable
                or SocketError.HostUnreachable or SocketError.NetworkDown)
            {
                // A local firewall rule dropped the probe (sendto gives EPERM), or the route is gone (an interface went
                // down mid-scan). It is lost like any other packet: unanswered, it is retransmitted and in the end called
                // filtered, and the target's coverage shows the silence. The scan goes on.
                Interlocked.Increment(ref locallyDropped);
                return;
            }
        }
    }

    public long ReceivedUpTo() => receiver.ReceivedUpTo();

    /// <summary>Delivers the replies that reach the node's receiver to <paramref name="onPacket"/> until cancelled or disposed.</summary>
    public void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken)
    {
        var mine = receiver.Subscribe(onPacket);
        subscription = mine;
        cancellationToken.Register(mine.Dispose);
    }

    public void Dispose()
    {
        sender?.Dispose();
        routeProbe?.Dispose();
        subscription?.Dispose();
        receiver?.Dispose();
    }
}
