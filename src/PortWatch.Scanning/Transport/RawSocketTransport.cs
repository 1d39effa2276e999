using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Transport;

/// <summary>
/// Raw IPv4 sockets: one TCP socket with IP_HDRINCL for sending, raw TCP and ICMP sockets for
/// receiving (Linux hands raw sockets a copy of every incoming packet of their protocol; a BPF
/// filter on each keeps only the answers to this scan's source port, <see cref="ReplyFilter"/>).
/// Needs root or CAP_NET_RAW.
///
/// The local kernel sees the SYN-ACKs too and, having no socket for our source port, answers
/// them with RST. That is what nmap relies on as well: it tears down the half-open connection on
/// the target at once. It is harmless as long as no local program uses the source port, which is
/// why that port sits outside the ephemeral range and is held by a bound socket for the scan.
/// </summary>
public sealed class RawSocketTransport : IPacketTransport
{
    private readonly Socket sender;
    private readonly Socket tcpReceiver;
    private readonly Socket icmpReceiver;
    private readonly Socket portReservation;
    private readonly Socket routeProbe;
    private readonly SocketAddress destinationAddress = new IPEndPoint(IPAddress.Any, 0).Serialize();
    private readonly ConcurrentDictionary<uint, uint> sourceBySubnet = new();
    private readonly List<Thread> receivers = [];
    private long locallyDropped;

    /// <summary>Probes a local firewall refused to send.</summary>
    public long LocallyDropped => Interlocked.Read(ref locallyDropped);

    public RawSocketTransport(ushort sourcePort)
    {
        sender = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Tcp);
        sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.HeaderIncluded, true);
        sender.SendBufferSize = 4 << 20;
        tcpReceiver = NewReceiver(ProtocolType.Tcp, ReplyFilter.ForTcp(sourcePort));
        icmpReceiver = NewReceiver(ProtocolType.Icmp, ReplyFilter.ForIcmp(sourcePort));
        findSource = FindSource;
        // Created now, like every socket here, so all of them live in the caller's network namespace.
        routeProbe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        portReservation = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            portReservation.Bind(new IPEndPoint(IPAddress.Any, sourcePort));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            Dispose();
            throw new InvalidOperationException($"source port {sourcePort} is in use by a local program; choose another (--source-port)", ex);
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

    private static Socket NewReceiver(ProtocolType protocol, byte[] filter)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Raw, protocol);
        // Before any packet is queued: only what can answer a probe reaches the process (see ReplyFilter).
        ReplyFilter.Attach(socket, filter);
        // Replies arrive in bursts at tens of thousands per second; a small buffer drops them silently.
        const int SO_RCVBUFFORCE = 33;
        try
        {
            socket.SetRawSocketOption((int)SocketOptionLevel.Socket, SO_RCVBUFFORCE, BitConverter.GetBytes(16 << 20));
        }
        catch (SocketException)
        {
            socket.ReceiveBufferSize = 16 << 20; // capped by net.core.rmem_max without CAP_NET_ADMIN
        }
        return socket;
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
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
            {
                // A local firewall rule dropped the probe (sendto gives EPERM). It is lost like any
                // other packet: unanswered, it is retransmitted and in the end called filtered.
                Interlocked.Increment(ref locallyDropped);
                return;
            }
        }
    }

    public void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken)
    {
        foreach (var socket in new[] { tcpReceiver, icmpReceiver })
        {
            var thread = new Thread(() => ReceiveLoop(socket, onPacket, cancellationToken))
            {
                IsBackground = true,
                Name = $"portwatch-receive-{socket.ProtocolType}",
                Priority = ThreadPriority.AboveNormal,
            };
            receivers.Add(thread);
            thread.Start();
        }
    }

    /// <summary>
    /// Reads replies until cancelled. While replies keep coming the thread polls the socket without sleeping: a
    /// sleeping reader must be woken for every packet, and at 100k replies a second those wake-ups cost the sending
    /// thread (whose system calls run the kernel's receive path) a good part of its time. After 2 ms without a packet
    /// it sleeps in poll() until the next one.
    /// </summary>
    private static void ReceiveLoop(Socket socket, PacketHandler onPacket, CancellationToken cancellationToken)
    {
        var buffer = new byte[65536];
        var spinFor = System.Diagnostics.Stopwatch.Frequency / 500;
        var lastPacket = 0L;
        try
        {
            socket.Blocking = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                var length = socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
                if (error == SocketError.Success)
                {
                    lastPacket = System.Diagnostics.Stopwatch.GetTimestamp();
                    onPacket(buffer.AsSpan(0, length));
                    continue;
                }
                if (error is not (SocketError.WouldBlock or SocketError.TimedOut or SocketError.Interrupted))
                    return; // closed or failed
                if (System.Diagnostics.Stopwatch.GetTimestamp() - lastPacket < spinFor)
                    Thread.SpinWait(20);
                else
                    socket.Poll(200_000, SelectMode.SelectRead); // quiet: sleep until a packet comes, waking to notice cancellation
            }
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            // disposed at the end of the scan
        }
    }

    public void Dispose()
    {
        sender?.Dispose();
        tcpReceiver?.Dispose();
        icmpReceiver?.Dispose();
        portReservation?.Dispose();
        routeProbe?.Dispose();
        foreach (var thread in receivers)
            thread.Join(TimeSpan.FromSeconds(1));
    }
}
