namespace PortWatch.Scanning.Transport;

/// <summary>
/// The SYN engine's one seam to the operating system: send raw IPv4 packets, receive the
/// IPv4 packets that arrive. <see cref="RawSocketTransport"/> is the real one; tests use a
/// simulated network.
/// </summary>
public interface IPacketTransport : IDisposable
{
    /// <summary>The local IPv4 address (host order) the kernel would use to reach the destination.</summary>
    uint SourceAddressFor(uint destination);

    /// <summary>Sends a complete IPv4 packet (header included).</summary>
    void Send(ReadOnlySpan<byte> packet, uint destination);

    /// <summary>Calls <paramref name="onPacket"/> for each arriving IPv4 packet (TCP and ICMP) until cancelled; returns once receiving runs.</summary>
    void StartReceiving(PacketHandler onPacket, CancellationToken cancellationToken);
}

public delegate void PacketHandler(ReadOnlySpan<byte> packet);
