using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Targets;

public class IpRangeTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", "203.0.113.7", "1")]
    [InlineData("203.0.113.0/28", "203.0.113.0", "203.0.113.15", "16")]
    [InlineData("203.0.113.9/28", "203.0.113.0", "203.0.113.15", "16")]
    [InlineData("10.0.0.5-10.0.0.20", "10.0.0.5", "10.0.0.20", "16")]
    [InlineData("10.0.0.5-20", "10.0.0.5", "10.0.0.20", "16")]
    [InlineData("0.0.0.0/0", "0.0.0.0", "255.255.255.255", "4294967296")]
    [InlineData(" 192.0.2.1/32 ", "192.0.2.1", "192.0.2.1", "1")]
    [InlineData("2001:db8::1", "2001:db8::1", "2001:db8::1", "1")]
    [InlineData("2001:db8::/126", "2001:db8::", "2001:db8::3", "4")]
    [InlineData("::ffff:198.51.100.4", "198.51.100.4", "198.51.100.4", "1")]
    public void Parse_ValidSpec_GivesExpectedBounds(string spec, string first, string last, string count)
    {
        var range = IpRange.Parse(spec);

        Assert.Equal(IPAddress.Parse(first), range.FirstAddress);
        Assert.Equal(IPAddress.Parse(last), range.LastAddress);
        Assert.Equal(UInt128.Parse(count), range.Count);
    }

    [Theory]
    [InlineData("10.0.0.0/33", "prefix length must be 0 to 32")]
    [InlineData("2001:db8::/129", "prefix length must be 0 to 128")]
    [InlineData("10.0.0.0/", "prefix length")]
    [InlineData("10.0.0.0/-1", "prefix length")]
    [InlineData("10.0.0.256", "not an IPv4 address")]
    [InlineData("10.0.0", "not an IPv4 address")]
    [InlineData("10.0.0.20-10.0.0.5", "range end is before range start")]
    [InlineData("10.0.0.1-2001:db8::1", "range mixes IPv4 and IPv6")]
    [InlineData("example", "not an IP address")]
    [InlineData("1", "not an IP address")]
    [InlineData("", "empty address")]
    [InlineData("fe80::1%eth0", "scoped IPv6")]
    public void Parse_InvalidSpec_ThrowsNamingTheTokenAndReason(string spec, string reason)
    {
        var ex = Assert.Throws<TargetSpecException>(() => IpRange.Parse(spec));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Equal(spec, ex.Token);
    }

    [Theory]
    [InlineData("203.0.113.0/28", "203.0.113.0/28")]
    [InlineData("203.0.113.0-203.0.113.15", "203.0.113.0/28")]
    [InlineData("203.0.113.1-203.0.113.15", "203.0.113.1-203.0.113.15")]
    [InlineData("2001:db8:0:0::/64", "2001:db8::/64")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    public void ToString_AnyRange_IsCanonicalText(string spec, string expected)
    {
        Assert.Equal(expected, IpRange.Parse(spec).ToString());
    }

    [Fact]
    public void Contains_AddressOfOtherFamily_IsFalse()
    {
        var range = IpRange.Parse("0.0.0.0/0");

        Assert.True(range.Contains(IPAddress.Parse("8.8.8.8")));
        Assert.False(range.Contains(IPAddress.Parse("2001:db8::1")));
        Assert.Equal(AddressFamily.InterNetwork, range.Family);
    }

    [Fact]
    public void ToUnifiedValue_IPv4AndMappedIPv6_AreTheSamePoint()
    {
        var v4 = IpAddressMath.ToUnifiedValue(IPAddress.Parse("192.0.2.1"));
        var mapped = IpAddressMath.ToUnifiedValue(IPAddress.Parse("::ffff:192.0.2.1"));
        var v6 = IpAddressMath.ToUnifiedValue(IPAddress.Parse("2001:db8::1"));

        Assert.Equal(v4, mapped);
        Assert.True(v4 < v6, "IPv4 sorts inside ::ffff:0:0/96, below 2001:db8::/32");
    }
}
