namespace PortWatch.Scanning.Transport;

/// <summary>
/// The SYN engine's one seam to the operating system: send raw IPv4 packets, receive the
/// IPv4 packets that arrive. <see cref="PacketSocketTransport"/> and <see cref="RawSocketTransport"/>
/// are the real ones; tests use a simulated network.
/// </summary>
public interface IPacketTransport : IDisposable
{
    /// <summary>The local IPv4 address (host order) the kernel would use to reach the destination.</summary>
    uint SourceAddressFor(uint destination);

    /// <summary>Sends a complete IPv4 packet (header included); a batching transport may hold it until <see cref="Flush"/>.</summary>
    void Send(ReadOnlySpan<byte> packet, uint destination);

    /// <summary>Puts every packet held back by <see cref="Send"/> on the wire. The engine calls it before it waits.</summary>
    void Flush()
    {
    }

    /// <summary>Calls <paramref name="onPacket"/> for each arriving IPv4 packet (TCP and ICMP) until cancelled; returns once receiving runs.</summary>
    void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken);

    /// <summary>
    /// A Stopwatch timestamp before which every packet that arrived has been handed to the handler: now, unless the
    /// receiving side has packets it has not read yet (it was descheduled, or is behind). The engine decides no silence
    /// past it: a reply waiting in the socket is not a lost one. A transport that cannot tell says now.
    /// </summary>
    long ReceivedUpTo() => System.Diagnostics.Stopwatch.GetTimestamp();
}

public delegate void PacketHandler(ReadOnlySpan<byte> packet);
