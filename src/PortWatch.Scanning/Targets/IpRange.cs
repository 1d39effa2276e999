using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Targets;

/// <summary>
/// An inclusive range of addresses of one family: a single address, a CIDR block or an
/// explicit "first-last" range. Values are integers (32-bit for IPv4, 128-bit for IPv6).
/// </summary>
public readonly record struct IpRange(AddressFamily Family, UInt128 First, UInt128 Last)
{
    public static IpRange Single(IPAddress address)
    {
        address = IpAddressMath.Normalize(address);
        var value = IpAddressMath.ToUInt128(address);
        return new IpRange(address.AddressFamily, value, value);
    }

    /// <summary>Number of addresses; saturates at <see cref="UInt128.MaxValue"/> for ::/0.</summary>
    public UInt128 Count => Last - First == UInt128.MaxValue ? UInt128.MaxValue : Last - First + 1;

    public IPAddress FirstAddress => IpAddressMath.FromUInt128(First, Family);

    public IPAddress LastAddress => IpAddressMath.FromUInt128(Last, Family);

    public bool Contains(IPAddress address)
    {
        address = IpAddressMath.Normalize(address);
        if (address.AddressFamily != Family)
            return false;
        var value = IpAddressMath.ToUInt128(address);
        return value >= First && value <= Last;
    }

    public bool Overlaps(IpRange other) => other.Family == Family && other.First <= Last && other.Last >= First;

    public bool Covers(IpRange other) => other.Family == Family && other.First >= First && other.Last <= Last;

    /// <summary>Accepts "10.0.0.5", "10.0.0.0/24", "10.0.0.5-10.0.0.20", "2001:db8::1", "2001:db8::/64".</summary>
    /// <exception cref="TargetSpecException">naming the bad token and why it is bad.</exception>
    public static IpRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var token = text.Trim();
        if (token.Length == 0)
            throw new TargetSpecException(text, "empty address");

        var slash = token.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
            return ParseCidr(token, slash);

        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
            return ParseDashRange(token, dash);

        return Single(ParseAddress(token, token));
    }

    public static bool TryParse(string text, out IpRange range, out string? error)
    {
        try
        {
            range = Parse(text);
            error = null;
            return true;
        }
        catch (TargetSpecException ex)
        {
            range = default;
            error = ex.Message;
            return false;
        }
    }

    private static IpRange ParseCidr(string token, int slash)
    {
        var address = ParseAddress(token[..slash], token);
        var prefixText = token[(slash + 1)..];
        var bits = IpAddressMath.BitLength(address.AddressFamily);
        if (!int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > bits)
            throw new TargetSpecException(token, $"prefix length must be 0 to {bits}");
        var value = IpAddressMath.ToUInt128(address);
        var hostBits = bits - prefix;
        var hostMask = hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        var first = value & ~hostMask;
        if (address.AddressFamily == AddressFamily.InterNetwork)
            first &= uint.MaxValue;
        return new IpRange(address.AddressFamily, first, first | hostMask);
    }

    private static IpRange ParseDashRange(string token, int dash)
    {
        var first = ParseAddress(token[..dash], token);
        var lastText = token[(dash + 1)..].Trim();
        IPAddress last;
        // nmap-style short form for IPv4: 10.0.0.5-20 means 10.0.0.5-10.0.0.20
        if (first.AddressFamily == AddressFamily.InterNetwork
            && byte.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out var lastOctet))
        {
            var bytes = first.GetAddressBytes();
            bytes[3] = lastOctet;
            last = new IPAddress(bytes);
        }
        else
        {
            last = ParseAddress(lastText, token);
        }
        if (first.AddressFamily != last.AddressFamily)
            throw new TargetSpecException(token, "range mixes IPv4 and IPv6");
        var a = IpAddressMath.ToUInt128(first);
        var b = IpAddressMath.ToUInt128(last);
        if (a > b)
            throw new TargetSpecException(token, "range end is before range start");
        return new IpRange(first.AddressFamily, a, b);
    }

    private static IPAddress ParseAddress(string text, string token)
    {
        text = text.Trim();
        // IPAddress.TryParse accepts "1", "1.2" and "0x7f.1" (inet_aton forms); an analyst typing those made a mistake.
        var looksLikeV4 = text.Contains('.', StringComparison.Ordinal) && !text.Contains(':', StringComparison.Ordinal);
        if (looksLikeV4 && !IsDottedQuad(text))
            throw new TargetSpecException(token, "not an IPv4 address (expected four decimal octets)");
        if (text.Contains('%', StringComparison.Ordinal))
            throw new TargetSpecException(token, "scoped IPv6 addresses (with %zone) are not supported");
        if (!IPAddress.TryParse(text, out var address) || (!looksLikeV4 && !text.Contains(':', StringComparison.Ordinal)))
            throw new TargetSpecException(token, "not an IP address");
        return IpAddressMath.Normalize(address);
    }

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || int.Parse(part, CultureInfo.InvariantCulture) > 255)
                return false;
        }
        return true;
    }

    /// <summary>Canonical text: a single address, a CIDR block when the range is one, otherwise "first-last".</summary>
    public override string ToString()
    {
        if (First == Last)
            return FirstAddress.ToString();
        var bits = IpAddressMath.BitLength(Family);
        var size = Last - First;
        if (size != UInt128.MaxValue && IsPowerOfTwo(size + 1) && (First & size) == 0)
        {
            var prefix = bits - (int)UInt128.Log2(size + 1);
            return $"{FirstAddress}/{prefix}";
        }
        if (size == UInt128.MaxValue)
            return $"{FirstAddress}/0";
        return $"{FirstAddress}-{LastAddress}";
    }

    private static bool IsPowerOfTwo(UInt128 value) => value != 0 && (value & (value - 1)) == 0;
}
