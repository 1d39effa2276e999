using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Connect;

/// <summary>TCP simultaneous open onto itself, forced on loopback by binding the source port to the destination port.</summary>
public class SelfConnectTests
{
    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static Socket BoundTo(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    [Fact]
    public async Task IsSelfConnect_SourcePortEqualsDestinationPort_IsTrue()
    {
        var port = FreeLoopbackPort();
        using var socket = BoundTo(port);

        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)); // nothing listens, yet it "connects"

        Assert.True(ConnectScanner.IsSelfConnect(socket));
    }

    [Fact]
    public async Task ScanAsync_SelfConnectOnPortWithoutListener_ReportsClosedNotOpen()
    {
        var port = FreeLoopbackPort();
        // Every socket the scanner opens gets the destination port as its source port: the worst case of the kernel's choice.
        var scanner = new ConnectScanner(_ => BoundTo(port));
        var results = new List<PortResult>();

        await foreach (var r in scanner.ScanAsync(TargetSet.Create(["127.0.0.1"]), [(ushort)port], new ScanOptions { Retries = 0 }))
            results.Add(r);

        var result = Assert.Single(results);
        Assert.Equal(PortStatus.Closed, result.Status);
        Assert.Equal("self-connect", result.Reason);
    }
}
