using System.Net;
using System.Net.Sockets;

namespace PortWatch.Tests.Shared;

/// <summary>A listening TCP socket on 127.0.0.1 (port chosen by the kernel) that never accepts: an open port to scan.</summary>
public sealed class LoopbackListener : IDisposable
{
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackListener()
    {
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(64);
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Dispose() => socket.Dispose();
}
