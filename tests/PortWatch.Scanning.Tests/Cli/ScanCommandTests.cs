using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Xml.Linq;
using PortWatch.Cli;
using PortWatch.Scanning.Transport;

namespace PortWatch.Scanning.Tests.Cli;

/// <summary>`portwatch scan` end to end with the connect engine against loopback listeners (no root needed).</summary>
public sealed class ScanCommandTests : IDisposable
{
    private readonly Socket listener;
    private readonly int openPort;
    private readonly int closedPort;

    public ScanCommandTests()
    {
        listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        openPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port; // released again: nothing listens there
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CommandLine.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Scan_JsonFormat_WritesOneObjectPerOpenPort()
    {
        var (code, output, error) = await RunAsync("scan", "127.0.0.1", "-p", $"{openPort},{closedPort}", "--engine", "connect", "--format", "json");

        Assert.Equal(0, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("127.0.0.1", json.RootElement.GetProperty("ip").GetString());
        Assert.Equal(openPort, json.RootElement.GetProperty("port").GetInt32());
        Assert.Equal("tcp", json.RootElement.GetProperty("proto").GetString());
        Assert.Equal("open", json.RootElement.GetProperty("state").GetString());
        Assert.Equal("syn-ack", json.RootElement.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("ttl").ValueKind); // connect() cannot see the TTL
        Assert.Contains("engine connect (requested)", error, StringComparison.Ordinal);
        Assert.Contains("1 open, 1 closed, 0 filtered", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_AllStatesJson_IncludesTheClosedPortWithItsReason()
    {
        var (_, output, _) = await RunAsync("scan", "127.0.0.1", "-p", $"{openPort},{closedPort}", "--engine", "connect", "--format", "json", "--all-states");

        var closed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("port").GetInt32() == closedPort);
        Assert.Equal("closed", closed.GetProperty("state").GetString());
        Assert.Equal("conn-refused", closed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Scan_XmlFormat_IsNmapCompatible()
    {
        var (code, output, _) = await RunAsync("scan", "127.0.0.1", "-p", $"{openPort},{closedPort}", "--engine", "connect", "--format", "xml");

        Assert.Equal(0, code);
        var run = XDocument.Parse(output).Root!;
        Assert.Equal("nmaprun", run.Name.LocalName);
        var host = Assert.Single(run.Elements("host"));
        Assert.Equal("127.0.0.1", host.Element("address")!.Attribute("addr")!.Value);
        var port = Assert.Single(host.Element("ports")!.Elements("port"));
        Assert.Equal(openPort.ToString(), port.Attribute("portid")!.Value);
        Assert.Equal("open", port.Element("state")!.Attribute("state")!.Value);
        var extra = host.Element("ports")!.Element("extraports")!;
        Assert.Equal("closed", extra.Attribute("state")!.Value);
        Assert.Equal(closedPort.ToString(), extra.Element("extrareasons")!.Attribute("ports")!.Value);
    }

    /// <summary>IPv6 targets get the SYN engine when raw IPv6 sockets are allowed (root), connect() otherwise; either way the scan says which and why.</summary>
    [Fact]
    public async Task Scan_IPv6Target_AutoPicksTheEngineAndSaysWhy()
    {
        using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        v6.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        v6.Listen(4);
        var port = ((IPEndPoint)v6.LocalEndPoint!).Port;

        var (code, output, error) = await RunAsync("scan", "::1", "-p", port.ToString(), "--format", "json");

        Assert.Equal(0, code);
        Assert.Contains(RawSocket6Transport.IsAvailable(out var why) ? $"engine syn ({why})" : $"engine connect ({why})", error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(output.Trim());
        Assert.Equal("::1", json.RootElement.GetProperty("ip").GetString());
        Assert.Equal("open", json.RootElement.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("'70000': port must be 0 to 65535", "scan", "127.0.0.1", "-p", "70000")]
    [InlineData("'10.0.0.0/33': prefix length must be 0 to 32", "scan", "10.0.0.0/33", "-p", "80")]
    [InlineData("'9-3': range end is before range start", "scan", "127.0.0.1", "-p", "9-3")]
    [InlineData("no targets given", "scan", "-p", "80")]
    [InlineData("--rate '0': expected a whole number from 1 to 10000000", "scan", "127.0.0.1", "--rate", "0")]
    [InlineData("--engine 'fast': use syn, connect or auto", "scan", "127.0.0.1", "--engine", "fast")]
    [InlineData("unknown option '--frobnicate'", "scan", "127.0.0.1", "--frobnicate")]
    [InlineData("outside the allowed scope", "scan", "127.0.0.1", "-p", "80", "--scope", "198.18.0.0/15")]
    public async Task Scan_BadInput_FailsWithAMessageNamingIt(string message, params string[] args)
    {
        var (code, _, error) = await RunAsync(args);

        Assert.Equal(CommandLine.Usage, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_ResumeFileOfAnotherScan_IsRefused()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """{"Version":1,"Targets":["198.18.0.1"],"Ports":"22","Seed":1,"Checkpoint":0,"Results":[]}""");

            var (code, _, error) = await RunAsync("scan", "127.0.0.1", "-p", "80", "--engine", "connect", "--resume", file);

            Assert.Equal(CommandLine.Usage, code);
            Assert.Contains("belongs to another scan", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public void Dispose() => listener.Dispose();
}
