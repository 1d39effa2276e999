using System.Buffers.Binary;
using System.Globalization;

namespace PortWatch.Scanning.Transport;

/// <summary>One IPv4 route of the main table: packets to <see cref="Prefix"/>/<see cref="Mask"/> leave by <see cref="Interface"/>, to <see cref="Gateway"/> (0: on-link).</summary>
public readonly record struct Ipv4Route(string Interface, uint Prefix, uint Mask, uint Gateway, int Metric)
{
    public bool Covers(uint destination) => (destination & Mask) == Prefix;

    public int PrefixLength => System.Numerics.BitOperations.PopCount(Mask);
}

/// <summary>A network interface as the packet socket needs it: its index, and its MAC when it is an Ethernet link.</summary>
public sealed record NetworkInterface(string Name, int Index, bool IsEthernet, byte[] Address);

/// <summary>
/// Reads the kernel's IPv4 routes and neighbours from /proc/thread-self/net, and the interfaces
/// through getifaddrs: all three show the network namespace of the calling thread, which is what
/// a packet socket needs to send like the kernel would (which interface, to which next-hop MAC)
/// without asking netlink. Only the main routing table is visible there; policy routing is not
/// followed (override the interface when it matters).
/// </summary>
public static class LinuxNetwork
{
    /// <summary>This thread's network namespace ("/proc/net" is the process's, which a thread that entered another namespace is not in).</summary>
    public const string ProcNet = "/proc/thread-self/net";

    public static IReadOnlyList<Ipv4Route> Routes(string path = ProcNet + "/route") =>
        File.Exists(path) ? ParseRoutes(File.ReadAllLines(path)) : [];

    /// <summary>/proc/net/route: addresses are in network order printed as a native-endian hex number.</summary>
    public static IReadOnlyList<Ipv4Route> ParseRoutes(IEnumerable<string> lines)
    {
        const int RtfUp = 0x1;
        var routes = new List<Ipv4Route>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8
                || !uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var destination)
                || !uint.TryParse(f[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var gateway)
                || !int.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || !int.TryParse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out var metric)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask)
                || (flags & RtfUp) == 0)
                continue;
            routes.Add(new Ipv4Route(f[0], FromProc(destination), FromProc(mask), FromProc(gateway), metric));
        }
        // Longest prefix first, then the lowest metric: the first route that covers a destination is the kernel's choice.
        return [.. routes.OrderByDescending(r => r.PrefixLength).ThenBy(r => r.Metric)];
    }

    private static uint FromProc(uint value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    /// <summary>Complete entries of /proc/net/arp, by (interface, IPv4 address in host order).</summary>

    public static Dictionary<(string Interface, uint Address), byte[]> ParseNeighbours(IEnumerable<string> lines)
    {
        const int AtfCom = 0x2; // the entry is complete: the address was resolved (or set by hand)
        var neighbours = new Dictionary<(string, uint), byte[]>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6
                || !System.Net.IPAddress.TryParse(f[0], out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || !int.TryParse(f[2].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags)
                || (flags & AtfCom) == 0
                || ParseMac(f[3]) is not { } mac)
                continue;
            neighbours[(f[5], BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes()))] = mac;
        }
        return neighbours;
    }

    public static byte[]? ParseMac(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 6)
            return null;
        var mac = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            if (!byte.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out mac[i]))
                return null;
        }
        return mac.All(b => b == 0) ? null : mac;
    }

    /// <summary>The interfaces with an index, from getifaddrs (so in the calling thread's namespace).</summary>
    public static IReadOnlyList<NetworkInterface> Interfaces()
    {
        var found = new List<NetworkInterface>();
        foreach (var link in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            int index;
            try
            {
                index = link.GetIPProperties().GetIPv4Properties().Index;
            }
            catch (System.Net.NetworkInformation.NetworkInformationException)
            {
                continue; // no IPv4 on it: nothing to send from there
            }
            var ethernet = link.NetworkInterfaceType == System.Net.NetworkInformation.NetworkInterfaceType.Ethernet;
            found.Add(new NetworkInterface(link.Name, index, ethernet, link.GetPhysicalAddress().GetAddressBytes()));
        }
        return found;
    }
}
