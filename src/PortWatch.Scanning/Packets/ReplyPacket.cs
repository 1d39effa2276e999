using System.Buffers.Binary;

namespace PortWatch.Scanning.Packets;

public enum ReplyKind
{
    /// <summary>Not something a SYN probe causes (other protocols, fragments, truncated packets).</summary>
    Other,
    Tcp,
    /// <summary>ICMP destination unreachable quoting a TCP segment we sent.</summary>
    IcmpUnreachable,
}

/// <summary>
/// What the receive loop needs from one IPv4 packet, parsed without allocation. Checksums are
/// not verified: on veth and with NIC offloads, kernel-made packets carry unfinished checksums.
/// </summary>
public readonly record struct ReplyPacket(
    ReplyKind Kind,
    uint SourceAddress,
    uint DestinationAddress,
    byte Ttl,
    ushort SourcePort,
    ushort DestinationPort,
    uint Sequence,
    uint Acknowledgment,
    TcpFlags Flags,
    byte IcmpType,
    byte IcmpCode)
{
    public const byte IcmpDestinationUnreachable = 3;

    public static ReplyPacket Parse(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 20 || packet[0] >> 4 != 4)
            return default;
        var headerLength = (packet[0] & 0x0F) * 4;
        var fragment = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3FFF;
        if (headerLength < 20 || packet.Length < headerLength || fragment != 0)
            return default;
        var ttl = packet[8];
        var protocol = packet[9];
        var source = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        var destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        var payload = packet[headerLength..];

        if (protocol == 6)
        {
            if (payload.Length < 14)
                return default;
            return new ReplyPacket(ReplyKind.Tcp, source, destination, ttl,
                BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(payload[4..]), BinaryPrimitives.ReadUInt32BigEndian(payload[8..]),
                (TcpFlags)(payload[13] & 0x3F), 0, 0);
        }

        if (protocol == 1 && payload.Length >= 8 && payload[0] == IcmpDestinationUnreachable)
        {
            // The ICMP error quotes our IPv4 header and at least 8 bytes of our TCP header: ports and sequence.
            var quoted = payload[8..];
            if (quoted.Length < 20 || quoted[0] >> 4 != 4)
                return default;
            var quotedHeader = (quoted[0] & 0x0F) * 4;
            if (quoted[9] != 6 || quoted.Length < quotedHeader + 8)
                return default;
            var tcp = quoted[quotedHeader..];
            // Addresses and ports are those of our probe: source = us, destination = the target.
            return new ReplyPacket(ReplyKind.IcmpUnreachable,
                BinaryPrimitives.ReadUInt32BigEndian(quoted[12..]), BinaryPrimitives.ReadUInt32BigEndian(quoted[16..]), ttl,
                BinaryPrimitives.ReadUInt16BigEndian(tcp), BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), 0, TcpFlags.None, payload[0], payload[1]);
        }
        return default;
    }
}

/// <summary>
/// What the receive loop needs from one IPv6 reply. A raw IPv6 socket hands over the payload
/// without the IPv6 header (the source comes with recvfrom): a TCP segment, or an ICMPv6 message.
/// For an ICMPv6 destination unreachable (type 1) the target and ports are those of the quoted probe.
/// </summary>
public readonly record struct ReplyPacket6(
    ReplyKind Kind,
    UInt128 Target,
    ushort TargetPort,
    ushort OurPort,
    uint Sequence,
    uint Acknowledgment,
    TcpFlags Flags,
    byte IcmpCode)
{
    public const byte Icmp6DestinationUnreachable = 1;

    public static ReplyPacket6 Parse(ReadOnlySpan<byte> payload, UInt128 source, bool isIcmp)
    {
        if (!isIcmp)
        {
            if (payload.Length < 20)
                return default;
            return new ReplyPacket6(ReplyKind.Tcp, source, BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(payload[4..]), BinaryPrimitives.ReadUInt32BigEndian(payload[8..]), (TcpFlags)(payload[13] & 0x3F), 0);
        }
        // Type, code, 4 unused bytes; the quoted IPv6 header (next header at 6, destination at 24); the quoted TCP header.
        if (payload.Length < 8 + 40 + 8 || payload[0] != Icmp6DestinationUnreachable || payload[8 + 6] != 6)
            return default;
        var tcp = payload[48..];
        return new ReplyPacket6(ReplyKind.IcmpUnreachable, BinaryPrimitives.ReadUInt128BigEndian(payload[(8 + 24)..]),
            BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]), BinaryPrimitives.ReadUInt16BigEndian(tcp),
            BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]), 0, TcpFlags.None, payload[1]);
    }
}
