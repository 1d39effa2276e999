using System.Net;
using System.Net.Sockets;

namespace PortWatch.Web.Flows;

/// <summary>
/// One flow as the exporter saw it: who talked to whom, on which ports, and the TCP flags seen.
/// Addresses are kept as 16 bytes (IPv4 mapped into IPv6's ::ffff:0:0/96) in a value type, so
/// decoding a packet allocates nothing per flow.
/// </summary>
public readonly record struct FlowRecord(UInt128 Source, UInt128 Destination, ushort SourcePort, ushort DestinationPort, byte Protocol, byte TcpFlags,
    ulong Packets, ulong Bytes)
{
    public const byte Tcp = 6;
    public const byte Udp = 17;

    private static readonly UInt128 V4Prefix = (UInt128)0xffff << 32;

    public static UInt128 FromV4(uint address) => V4Prefix | address;

    public static UInt128 FromV6(ReadOnlySpan<byte> bytes) => System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);

    public IPAddress SourceAddress => ToAddress(Source);

    public IPAddress DestinationAddress => ToAddress(Destination);

    public static IPAddress ToAddress(UInt128 value)
    {
        if (value >> 32 == 0xffff)
            return new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)value));
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new IPAddress(bytes);
    }

    public AddressFamily Family => Source >> 32 == 0xffff ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
}

/// <summary>Why a packet (or part of one) was not used; counted per exporter for the live view.</summary>
public enum FlowDrop
{
    None = 0,
    /// <summary>Shorter than its header or than a length it states.</summary>
    Truncated,
    /// <summary>Not NetFlow v5, v9 or IPFIX.</summary>
    UnknownVersion,
    /// <summary>A set or template that contradicts itself (zero or overlong lengths, too many fields, counts that do not match).</summary>
    Malformed,
    /// <summary>Data for a template not (yet) received from this exporter and observation domain.</summary>
    NoTemplate,
    /// <summary>More templates than one exporter may hold.</summary>
    TooManyTemplates,
}
