using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Web.Data;

/// <summary>
/// An address stored as 32 lowercase hex digits of its position in one 128-bit space
/// (IPv4 inside ::ffff:0:0/96). Fixed width makes text order equal numeric order, so
/// range queries are plain string comparisons on an index in SQLite and PostgreSQL alike
/// (PostgreSQL columns use the "C" collation for that reason). See docs/decisions/0002.
/// </summary>
public static class IpKey
{
    public const int Length = 32;

    public static string From(IPAddress address) => Format(IpAddressMath.ToUnifiedValue(address));

    public static (string Start, string End) From(IpRange range)
    {
        var offset = range.Family == AddressFamily.InterNetwork ? IpAddressMath.MappedIPv4Base : UInt128.Zero;
        return (Format(offset + range.First), Format(offset + range.Last));
    }

    public static string Format(UInt128 value) => value.ToString("x32", CultureInfo.InvariantCulture);
}
