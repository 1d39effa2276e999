using System.Buffers.Binary;
using System.Net.Sockets;

namespace PortWatch.Scanning.Packets;

/// <summary>
/// Builds the IPv4 + TCP SYN probe the scanner sends (sent with IP_HDRINCL, so we own every field).
/// Like nmap's: window 1024, one MSS option, DF clear. 44 bytes.
/// </summary>
public static class SynPacket
{
    public const int Ipv4HeaderLength = 20;
    public const int TcpHeaderLength = 24; // 20 + MSS option
    public const int Length = Ipv4HeaderLength + TcpHeaderLength;
    public const ushort Window = 1024;
    public const ushort Mss = 1460;

    /// <summary>Writes a complete packet into <paramref name="buffer"/> (at least <see cref="Length"/> bytes).</summary>
    public static void Write(Span<byte> buffer, uint sourceAddress, uint destinationAddress, ushort sourcePort, ushort destinationPort,
        uint sequence, ushort ipId, byte ttl)
    {
        var ip = buffer[..Ipv4HeaderLength];
        ip[0] = 0x45;                                   // version 4, header 5 words
        ip[1] = 0;                                      // DSCP/ECN
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], Length);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], ipId);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0);   // flags + fragment offset
        ip[8] = ttl;
        ip[9] = (byte)ProtocolType.Tcp;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);  // checksum placeholder
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], sourceAddress);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], destinationAddress);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));

        var tcp = buffer.Slice(Ipv4HeaderLength, TcpHeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 0);  // ack
        tcp[12] = (TcpHeaderLength / 4) << 4;                 // data offset
        tcp[13] = (byte)TcpFlags.Syn;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], Window);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], 0);  // checksum placeholder
        BinaryPrimitives.WriteUInt16BigEndian(tcp[18..], 0);  // urgent pointer
        tcp[20] = 2;                                          // option: MSS
        tcp[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[22..], Mss);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], TcpChecksum(sourceAddress, destinationAddress, tcp));
    }

    /// <summary>TCP checksum over the IPv4 pseudo-header and the segment.</summary>
    public static ushort TcpChecksum(uint sourceAddress, uint destinationAddress, ReadOnlySpan<byte> segment)
    {
        uint sum = (sourceAddress >> 16) + (sourceAddress & 0xFFFF) + (destinationAddress >> 16) + (destinationAddress & 0xFFFF);
        sum += (uint)ProtocolType.Tcp + (uint)segment.Length;
        return InternetChecksum.Finish(InternetChecksum.Accumulate(segment, sum));
    }
}

/// <summary>
/// The TCP SYN segment of an IPv6 probe, the same as the IPv4 one's: a raw IPv6 socket adds the
/// IPv6 header itself (hop limit from the socket), but leaves the TCP checksum, over the IPv6
/// pseudo-header (RFC 8200 8.1), to us.
/// </summary>
public static class SynPacket6
{
    public const int Length = SynPacket.TcpHeaderLength;

    public static void Write(Span<byte> buffer, UInt128 sourceAddress, UInt128 destinationAddress, ushort sourcePort, ushort destinationPort, uint sequence)
    {
        var tcp = buffer[..Length];
        tcp.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        tcp[12] = (Length / 4) << 4;
        tcp[13] = (byte)TcpFlags.Syn;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], SynPacket.Window);
        tcp[20] = 2;
        tcp[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[22..], SynPacket.Mss - 20); // the IPv6 header is 20 bytes longer
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], TcpChecksum(sourceAddress, destinationAddress, tcp));
    }

    public static ushort TcpChecksum(UInt128 sourceAddress, UInt128 destinationAddress, ReadOnlySpan<byte> segment)
    {
        Span<byte> pseudo = stackalloc byte[40];
        BinaryPrimitives.WriteUInt128BigEndian(pseudo, sourceAddress);
        BinaryPrimitives.WriteUInt128BigEndian(pseudo[16..], destinationAddress);
        BinaryPrimitives.WriteUInt32BigEndian(pseudo[32..], (uint)segment.Length);
        BinaryPrimitives.WriteUInt32BigEndian(pseudo[36..], (uint)ProtocolType.Tcp);
        return InternetChecksum.Finish(InternetChecksum.Accumulate(segment, InternetChecksum.Accumulate(pseudo)));
    }
}
