using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Targets;

public class PortSetTests
{
    [Theory]
    [InlineData("22,80,443", "T:22,80,443")]
    [InlineData("1-1024", "T:1-1024")]
    [InlineData("-", "T:1-65535")]
    [InlineData("1-65535", "T:1-65535")]
    [InlineData("-100", "T:1-100")]
    [InlineData("65530-", "T:65530-65535")]
    [InlineData("80,22,80,21-23", "T:21-23,80")]
    [InlineData("T:22,U:53,161,T:80", "T:22,80,U:53,161")]
    [InlineData("0", "T:0")]
    [InlineData(" 22 , 25 ", "T:22,25")]
    public void Parse_ValidSpec_GivesSortedDistinctPorts(string spec, string expected)
    {
        Assert.Equal(expected, PortSet.Parse(spec).ToString());
    }

    [Theory]
    [InlineData("70000", "'70000': port must be 0 to 65535")]
    [InlineData("9-3", "'9-3': range end is before range start")]
    [InlineData("", "empty port specification")]
    [InlineData("22,,80", "empty entry in port list")]
    [InlineData("http", "'http': not a port number")]
    [InlineData("22,U:1-70000", "'U:1-70000': port must be 0 to 65535")]
    [InlineData("-5-", "not a port number")]
    public void Parse_InvalidSpec_FailsNamingTheBadToken(string spec, string message)
    {
        var ex = Assert.Throws<TargetSpecException>(() => PortSet.Parse(spec));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TopLists_HaveTheRightSizeAndLeadWithTheMostExposedServices()
    {
        var top100 = PortSet.Parse("top100").Tcp;
        var top1000 = PortSet.Parse("top1000").Tcp;
        var udp = PortSet.Parse("U:top100").Udp;

        Assert.Equal(100, top100.Count);
        Assert.Equal(1000, top1000.Count);
        Assert.Equal(100, udp.Count);
        Assert.Subset(top1000.ToHashSet(), top100.ToHashSet());
        Assert.Contains((ushort)443, top100);
        Assert.Contains((ushort)3389, top100);
        Assert.Contains((ushort)53, udp);
        Assert.Contains((ushort)6379, top1000);
    }

    [Fact]
    public void Parse_SeveralBadTokens_NamesEveryOne()
    {
        var ex = Assert.Throws<TargetSpecException>(() => PortSet.Parse("abc,70000,5-3,22"));

        Assert.Contains("'abc': not a port number", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'70000': port must be 0 to 65535", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'5-3': range end is before range start", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parse_TwentyThousandFullRanges_MergesIntoOneRangeWithoutHanging()
    {
        // 160 KB that used to cost over a minute of CPU, port by port into a sorted set.
        var bomb = string.Concat(Enumerable.Repeat("1-65535,", 20_000)) + "U:top1000,top1000,top100";

        var parsed = await Task.Run(() => PortSet.Parse(bomb)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(65535, parsed.Tcp.Count);
        Assert.Equal(1000, parsed.Udp.Count);
    }

    [Fact]
    public void Parse_LongerThanTheLimit_IsRefusedWithTheLength()
    {
        var spec = string.Concat(Enumerable.Repeat("80,", PortSet.MaxLength / 3 + 10));

        var ex = Assert.Throws<TargetSpecException>(() => PortSet.Parse(spec));

        Assert.Contains("at most", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 200);
    }

    [Fact]
    public void Parse_ManyBadTokens_ReportsTenAndCountsTheRest()
    {
        var ex = Assert.Throws<TargetSpecException>(() => PortSet.Parse(string.Join(',', Enumerable.Repeat("x", 50))));

        Assert.Contains("and 40 more", ex.Message, StringComparison.Ordinal);
    }
}
