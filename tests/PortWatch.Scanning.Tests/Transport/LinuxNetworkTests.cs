using PortWatch.Scanning.Transport;

namespace PortWatch.Scanning.Tests.Transport;

public class LinuxNetworkTests
{
    private static uint Ip(string text) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(System.Net.IPAddress.Parse(text).GetAddressBytes());

    /// <summary>/proc/net/route prints addresses as native-endian hex of network-order values; the most specific route wins, then the lowest metric.</summary>
    [Fact]
    public void ParseRoutes_ProcNetRoute_LongestPrefixFirstThenMetric()
    {
        string[] lines =
        [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t00000000\tFE00630A\t0003\t0\t0\t100\t00000000\t0\t0\t0",
            "eth1\t00000000\t0100000A\t0003\t0\t0\t50\t00000000\t0\t0\t0",
            "eth0\t0000630A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            "eth2\t0000120A\t00000000\t0000\t0\t0\t0\t0000FFFF\t0\t0\t0", // not up: ignored
            "garbage line",
        ];

        var routes = LinuxNetwork.ParseRoutes(lines);

        Assert.Equal(3, routes.Count);
        Assert.Equal(new Ipv4Route("eth0", Ip("10.99.0.0"), Ip("255.255.255.0"), 0, 0), routes[0]);
        Assert.Equal(("eth1", Ip("10.0.0.1")), (routes[1].Interface, routes[1].Gateway)); // the default route with the lower metric
        Assert.Equal(("eth0", Ip("10.99.0.254")), (routes[2].Interface, routes[2].Gateway));
        Assert.True(routes[0].Covers(Ip("10.99.0.77")));
        Assert.False(routes[0].Covers(Ip("10.99.1.77")));
    }

    /// <summary>Only complete entries (resolved, or set by hand) give a next hop; an incomplete one means ARP is still asking.</summary>
    [Fact]
    public void ParseNeighbours_ProcNetArp_KeepsOnlyCompleteEntries()
    {
        string[] lines =
        [
            "IP address       HW type     Flags       HW address            Mask     Device",
            "10.99.0.254      0x1         0x2         2a:fc:9b:d3:a1:c7     *        s0",
            "198.19.0.2       0x1         0x6         02:00:00:00:00:02     *        pwtx0",
            "10.99.0.9        0x1         0x0         00:00:00:00:00:00     *        s0",
            "not an address   0x1         0x2         2a:fc:9b:d3:a1:c7     *        s0",
            "10.99.0.10       0x1         0x2         zz:fc:9b:d3:a1:c7     *        s0",
        ];

        var neighbours = LinuxNetwork.ParseNeighbours(lines);

        Assert.Equal(2, neighbours.Count);
        Assert.Equal([0x2a, 0xfc, 0x9b, 0xd3, 0xa1, 0xc7], neighbours[("s0", Ip("10.99.0.254"))]);
        Assert.Equal([2, 0, 0, 0, 0, 2], neighbours[("pwtx0", Ip("198.19.0.2"))]);
    }
}
