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
}

public delegate void PacketHandler(ReadOnlySpan<byte> packet);
