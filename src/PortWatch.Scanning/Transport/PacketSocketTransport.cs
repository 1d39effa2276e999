using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace PortWatch.Scanning.Transport;

/// <summary>
/// Sends probes the way masscan does: straight to the interface through an AF_PACKET socket,
/// past the kernel's IP output path and queueing discipline (PACKET_QDISC_BYPASS), many frames
/// per system call (sendmmsg). The socket is SOCK_DGRAM: the kernel adds the link-layer header
/// from the next hop's address, which comes from the routing and neighbour tables
/// (<see cref="LinuxNetwork"/>). A destination whose next hop is not resolved yet, or that is
/// reached over loopback or an unusual link, goes through the raw IPv4 socket instead, so the
/// kernel resolves it (ARP) and the next lookup finds it. Receiving, the source address and the
/// source port reservation are the raw transport's (<see cref="RawSocketTransport"/>).
///
/// Concurrency: <see cref="Send"/> and <see cref="Flush"/> are called by one thread, the engine's
/// transmit thread; a probe queued by Send leaves at the latest at the next Flush.
/// </summary>
public sealed class PacketSocketTransport : IPacketTransport
{
    private const int AfPacket = 17, SockDgram = 2, SolSocket = 1, SoSndbuf = 7, SolPacket = 263, PacketQdiscBypass = 20;
    private const int EtherTypeIpv4 = 0x0800;
    private const int Enobufs = 105, Eagain = 11, Eintr = 4;

    /// <summary>Frames per sendmmsg at most.</summary>
    public const int BatchCapacity = 256;

    // One pinned block holds the frames, their iovecs, their sockaddr_ll and the mmsghdr array (x86-64/arm64 layouts).
    private const int FrameBytes = 64, IovecBytes = 16, SockaddrBytes = 24, SockaddrLength = 20, MmsghdrBytes = 64;
    private const int IovecsAt = BatchCapacity * FrameBytes;
    private const int SockaddrsAt = IovecsAt + BatchCapacity * IovecBytes;
    private const int HeadersAt = SockaddrsAt + BatchCapacity * SockaddrBytes;
    private const int BlockBytes = HeadersAt + BatchCapacity * MmsghdrBytes;

    private readonly RawSocketTransport raw;
    private readonly int socket;
    private readonly byte[] block = GC.AllocateArray<byte>(BlockBytes, pinned: true);
    private readonly nint blockAddress;
    private readonly Hop[] routes;
    private readonly NetworkInterface[] interfaces;
    private readonly FileStream neighbourTable;
    private byte[] neighbourBuffer = new byte[1 << 16];
    private Dictionary<long, byte[]> neighbours = [];
    private long neighboursReadAt = Environment.TickCount64 - 1_000; // due at the first lookup
    private int queued;
    private long viaPacketSocket;
    private long viaRawSocket;
    private string? failure;

    /// <summary>A route resolved to an interface slot.</summary>
    private readonly record struct Hop(uint Prefix, uint Mask, uint Gateway, int Interface);

    private PacketSocketTransport(RawSocketTransport raw, int socket, IReadOnlyList<Ipv4Route> routeTable, IReadOnlyList<NetworkInterface> interfaceTable,
        FileStream neighbourTable)
    {
        this.raw = raw;
        this.socket = socket;
        this.neighbourTable = neighbourTable;
        interfaces = [.. interfaceTable];
        routes = [.. routeTable.Select(r => new Hop(r.Prefix, r.Mask, r.Gateway, Array.FindIndex(interfaces, i => i.Name == r.Interface)))];
        blockAddress = Marshal.UnsafeAddrOfPinnedArrayElement(block, 0);
        for (var i = 0; i < BatchCapacity; i++)
        {
            var iovec = block.AsSpan(IovecsAt + i * IovecBytes);
            BinaryPrimitives.WriteInt64LittleEndian(iovec, blockAddress + i * FrameBytes);
            var header = block.AsSpan(HeadersAt + i * MmsghdrBytes, MmsghdrBytes);
            header.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(header, blockAddress + SockaddrsAt + i * SockaddrBytes); // msg_name
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], SockaddrLength);                            // msg_namelen
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], blockAddress + IovecsAt + i * IovecBytes); // msg_iov
            BinaryPrimitives.WriteInt64LittleEndian(header[24..], 1);                                        // msg_iovlen
            var address = block.AsSpan(SockaddrsAt + i * SockaddrBytes, SockaddrBytes);
            address.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(address, AfPacket);
            BinaryPrimitives.WriteUInt16BigEndian(address[2..], EtherTypeIpv4);
        }
        var names = string.Join(", ", interfaces.Where(i => i.IsEthernet).Select(i => i.Name)); // the links probes leave by this way
        Description = $"AF_PACKET on {(names.Length > 0 ? names : "no interface")} (qdisc bypass, sendmmsg batches of up to {BatchCapacity}); raw IPv4 for next hops not resolved yet";
    }

    /// <summary>
    /// The packet socket path when this machine allows it (Linux, CAP_NET_RAW, a 64-bit little-endian layout), else null
    /// with the reason. <paramref name="interfaceName"/> restricts sending to one interface: only routes through it count.
    /// </summary>
    public static PacketSocketTransport? TryCreate(RawSocketTransport raw, string? interfaceName, out string why)
    {
        if (!OperatingSystem.IsLinux() || !BitConverter.IsLittleEndian || IntPtr.Size != 8)
        {
            why = "packet sockets are used on 64-bit little-endian Linux only";
            return null;
        }
        var routes = LinuxNetwork.Routes().Where(r => interfaceName is null || r.Interface == interfaceName).ToList();
        var allInterfaces = LinuxNetwork.Interfaces();
        var interfaces = allInterfaces.Where(i => routes.Any(r => r.Interface == i.Name)).ToList();
        if (interfaceName is not null && allInterfaces.All(i => i.Name != interfaceName))
        {
            why = $"there is no interface '{interfaceName}'";
            return null;
        }
        if (routes.Count == 0)
        {
            why = interfaceName is null ? "no IPv4 route is readable from /proc/net/route" : $"no IPv4 route goes through {interfaceName}";
            return null;
        }
        if (!interfaces.Any(i => i.IsEthernet))
        {
            why = "no route goes through an Ethernet interface";
            return null;
        }
        FileStream neighbourTable;
        try
        {
            // Opened now, in this thread's network namespace; the transmit thread re-reads it from wherever it runs.
            neighbourTable = new FileStream(LinuxNetwork.ProcNet + "/arp", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            why = $"the neighbour table is not readable ({ex.Message})";
            return null;
        }
        // Protocol 0: the socket only sends; it gets no copy of incoming frames.
        var fd = NativeMethods.socket(AfPacket, SockDgram, 0);
        if (fd < 0)
        {
            neighbourTable.Dispose();
            why = $"no packet socket (errno {Marshal.GetLastPInvokeError()}): needs CAP_NET_RAW";
            return null;
        }
        var one = 1;
        if (NativeMethods.setsockopt(fd, SolPacket, PacketQdiscBypass, ref one, sizeof(int)) != 0)
        {
            _ = NativeMethods.close(fd);
            neighbourTable.Dispose();
            why = $"PACKET_QDISC_BYPASS refused (errno {Marshal.GetLastPInvokeError()}): kernel older than 3.14";
            return null;
        }
        var buffer = 4 << 20;
        _ = NativeMethods.setsockopt(fd, SolSocket, SoSndbuf, ref buffer, sizeof(int));
        why = "packet socket available";
        return new PacketSocketTransport(raw, fd, routes, interfaces, neighbourTable);
    }

    /// <summary>
    /// The fastest transport this machine allows: the packet socket when it can be opened, else the raw IPv4 socket;
    /// <paramref name="description"/> says which, and why.
    /// </summary>
    public static IPacketTransport Open(ushort sourcePort, string? interfaceName, out string description)
    {
        var raw = new RawSocketTransport(sourcePort);
        if (TryCreate(raw, interfaceName, out var why) is { } packet)
        {
            description = packet.Description;
            return packet;
        }
        description = $"raw IPv4 socket ({why})";
        return raw;
    }

    /// <summary>Which path probes take, for the log and the CLI.</summary>
    public string Description { get; }

    /// <summary>Why the packet socket stopped being used part-way (then every probe goes through the raw socket), if it did.</summary>
    public string? Failure => Volatile.Read(ref failure);

    public long SentViaPacketSocket => Interlocked.Read(ref viaPacketSocket);

    public long SentViaRawSocket => Interlocked.Read(ref viaRawSocket);

    public uint SourceAddressFor(uint destination) => raw.SourceAddressFor(destination);

    public void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken) => raw.StartReceiving(onPacket, cancellationToken);

    public long ReceivedUpTo() => raw.ReceivedUpTo();

    public void Send(ReadOnlySpan<byte> packet, uint destination)
    {
        if (packet.Length > FrameBytes || failure is not null || !TryNextHop(destination, out var index, out var mac))
        {
            raw.Send(packet, destination);
            Interlocked.Increment(ref viaRawSocket);
            return;
        }
        var slot = queued;
        packet.CopyTo(block.AsSpan(slot * FrameBytes, FrameBytes));
        BinaryPrimitives.WriteInt64LittleEndian(block.AsSpan(IovecsAt + slot * IovecBytes + 8), packet.Length);
        var address = block.AsSpan(SockaddrsAt + slot * SockaddrBytes, SockaddrBytes);
        BinaryPrimitives.WriteInt32LittleEndian(address[4..], interfaces[index].Index); // sll_ifindex
        address[11] = (byte)mac.Length;                                                  // sll_halen
        mac.CopyTo(address[12..]);                                                       // sll_addr
        queued = slot + 1;
        if (queued == BatchCapacity)
            Flush();
    }

    public void Flush()
    {
        var done = 0;
        while (done < queued)
        {
            var sent = NativeMethods.sendmmsg(socket, blockAddress + HeadersAt + done * MmsghdrBytes, (uint)(queued - done), 0);
            if (sent > 0)
            {
                done += sent;
                continue;
            }
            var errno = Marshal.GetLastPInvokeError();
            if (sent < 0 && errno is Enobufs or Eagain or Eintr)
            {
                Thread.Yield(); // the device queue is full: wait for it to drain rather than lose probes
                continue;
            }
            // The interface went away, or refuses these frames: stop using it and let the kernel route the rest.
            Volatile.Write(ref failure, $"sendmmsg failed (errno {errno}); probes go through the raw IPv4 socket from here on");
            for (var i = done; i < queued; i++)
            {
                var frame = block.AsSpan(i * FrameBytes, (int)BinaryPrimitives.ReadInt64LittleEndian(block.AsSpan(IovecsAt + i * IovecBytes + 8)));
                raw.Send(frame, BinaryPrimitives.ReadUInt32BigEndian(frame[16..]));
                Interlocked.Increment(ref viaRawSocket);
            }
            Interlocked.Add(ref viaPacketSocket, done);
            queued = 0;
            return;
        }
        Interlocked.Add(ref viaPacketSocket, queued);
        queued = 0;
    }

    /// <summary>The interface and the next hop's link address for a destination, as the kernel would pick them; false: leave it to the kernel.</summary>
    private bool TryNextHop(uint destination, out int index, out byte[] mac)
    {
        index = -1;
        mac = [];
        foreach (var route in routes)
        {
            if ((destination & route.Mask) != route.Prefix)
                continue;
            index = route.Interface;
            if (index < 0)
                return false;
            if (!interfaces[index].IsEthernet)
                return false; // loopback, tunnels and the like: the kernel's own path is right for them
            var nextHop = route.Gateway != 0 ? route.Gateway : destination;
            var key = (long)index << 32 | nextHop;
            if (neighbours.TryGetValue(key, out mac!))
                return true;
            // Not resolved (yet): read the table again now and then, and meanwhile let the kernel resolve it.
            var now = Environment.TickCount64;
            if (now - neighboursReadAt > 200)
            {
                neighboursReadAt = now;
                neighbours = LinuxNetwork.ParseNeighbours(ReadNeighbourTable())
                    .Select(n => (Slot: Array.FindIndex(interfaces, i => i.Name == n.Key.Interface), n.Key.Address, Mac: n.Value))
                    .Where(n => n.Slot >= 0)
                    .ToDictionary(n => (long)n.Slot << 32 | n.Address, n => n.Mac);
                if (neighbours.TryGetValue(key, out mac!))
                    return true;
            }
            mac = [];
            return false;
        }
        return false;
    }

    private string[] ReadNeighbourTable()
    {
        neighbourTable.Seek(0, SeekOrigin.Begin);
        var length = 0;
        int read;
        while ((read = neighbourTable.Read(neighbourBuffer, length, neighbourBuffer.Length - length)) > 0)
        {
            length += read;
            if (length == neighbourBuffer.Length)
                Array.Resize(ref neighbourBuffer, neighbourBuffer.Length * 2); // a big LAN: thousands of neighbours
        }
        return System.Text.Encoding.ASCII.GetString(neighbourBuffer, 0, length).Split('\n');
    }

    public void Dispose()
    {
        if (failure is null)
            Flush();
        _ = NativeMethods.close(socket);
        neighbourTable.Dispose();
        raw.Dispose();
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // LibraryImport generates unsafe code, which this project does not allow; these signatures are blittable.
        [DllImport("libc", SetLastError = true)]
        public static extern int socket(int domain, int type, int protocol);

        [DllImport("libc", SetLastError = true)]
        public static extern int setsockopt(int fd, int level, int name, ref int value, int length);

        [DllImport("libc", SetLastError = true)]
        public static extern int sendmmsg(int fd, nint messages, uint count, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
#pragma warning restore SYSLIB1054
    }
}
