using PortWatch.Cli;

namespace PortWatch.Scanning.Tests.Cli;

public class CommandLineTests
{
    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Targets_ValidSpecs_PrintsCanonicalRangesWithCounts()
    {
        var (code, output, _) = await RunAsync("targets", "203.0.113.0-203.0.113.15,2001:db8::/127");

        Assert.Equal(CommandLine.Ok, code);
        Assert.Equal(["203.0.113.0/28\t16", "2001:db8::/127\t2"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task Targets_BadSpec_FailsNamingTheToken()
    {
        var (code, _, error) = await RunAsync("targets", "10.0.0.0/33");

        Assert.Equal(CommandLine.Usage, code);
        Assert.Contains("'10.0.0.0/33': prefix length must be 0 to 32", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnknownCommand_FailsWithHint()
    {
        var (code, _, error) = await RunAsync("frobnicate");

        Assert.Equal(CommandLine.Usage, code);
        Assert.Contains("unknown command 'frobnicate'", error, StringComparison.Ordinal);
    }
}

public class ProbeEndpointTests
{
    [Fact]
    public void ParseEndpoints_TcpAndUdpPorts_GivesEachWithItsProtocol()
    {
        var endpoints = PortWatch.Cli.Probe.ProbeCommand.ParseEndpoints("192.0.2.5:22,U:53,U:123").Select(e => $"{e.Endpoint.Port}/{e.Protocol}");

        Assert.Equal(["22/Tcp", "53/Udp", "123/Udp"], endpoints);
    }

    [Theory]
    [InlineData("[2001:db8::1]:443", "[2001:db8::1]:443/Tcp")]
    [InlineData("[2001:db8::1]:U:53", "[2001:db8::1]:53/Udp")]
    [InlineData("192.0.2.7:T:80,U:161", "192.0.2.7:80/Tcp 192.0.2.7:161/Udp")]
    public void ParseEndpoints_AddressForms_AreRead(string text, string expected)
    {
        Assert.Equal(expected, string.Join(' ', PortWatch.Cli.Probe.ProbeCommand.ParseEndpoints(text).Select(e => $"{e.Endpoint}/{e.Protocol}")));
    }
}
