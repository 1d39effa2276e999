using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Targets;

/// <summary>Addresses as unsigned integers, so ranges are plain arithmetic.</summary>
public static class IpAddressMath
{
    /// <summary>Start of the IPv4-mapped IPv6 block (::ffff:0:0/96), where IPv4 lives in the shared 128-bit space.</summary>
    public static readonly UInt128 MappedIPv4Base = new(0, 0xFFFF_0000_0000);

    /// <summary>IPv4 as a 32-bit value, IPv6 as a 128-bit value. IPv4-mapped IPv6 addresses count as IPv4.</summary>
    public static UInt128 ToUInt128(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
            throw new ArgumentException("address does not fit in 16 bytes", nameof(address));
        return written == 4
            ? BinaryPrimitives.ReadUInt32BigEndian(bytes)
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static IPAddress FromUInt128(UInt128 value, AddressFamily family)
    {
        if (family == AddressFamily.InterNetwork)
        {
            if (value > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(value), "value is larger than an IPv4 address");
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)value);
            return new IPAddress(v4);
        }
        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, value);
        return new IPAddress(v6);
    }

    /// <summary>
    /// The address's position in one ordered space for both families: IPv6 as is, IPv4 inside
    /// ::ffff:0:0/96. Used to store and range-query addresses of both families in one column.
    /// </summary>
    public static UInt128 ToUnifiedValue(IPAddress address)
    {
        var value = ToUInt128(address);
        return Normalize(address).AddressFamily == AddressFamily.InterNetwork ? MappedIPv4Base + value : value;
    }

    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static int BitLength(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;
}
