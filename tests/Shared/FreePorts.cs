using System.Net;
using System.Net.Sockets;

namespace PortWatch.Tests.Shared;

/// <summary>A port nothing listens on right now (the system's pick, released at once): for a closed port, or one to listen on later.</summary>
public static class FreePorts
{
    public static int Tcp(IPAddress? on = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(on ?? IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public static int Udp(IPAddress? on = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(on ?? IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
