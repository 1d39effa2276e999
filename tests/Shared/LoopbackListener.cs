using System.Net;
using System.Net.Sockets;

namespace PortWatch.Tests.Shared;

/// <summary>A listening TCP socket on 127.0.0.1 (port chosen by the kernel) that never accepts: an open port to scan.</summary>
public sealed class LoopbackListener : IDisposable
{
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public LoopbackListener() : this(0)
    {
    }

    private LoopbackListener(int port)
    {
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen(64);
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A listener on a free port of 20000 to <paramref name="limit"/> (the kernel's own choice is an ephemeral port, 32768 and up).</summary>
    public static LoopbackListener OnPortBelow(int limit)
    {
        var start = Random.Shared.Next(20_000, limit);
        for (var i = 0; i < limit - 20_000; i++)
        {
            try
            {
                return new LoopbackListener(20_000 + (start - 20_000 + i) % (limit - 20_000));
            }
            catch (SocketException)
            {
                // taken: the next one
            }
        }
        throw new InvalidOperationException($"no free loopback port from 20000 to {limit}");
    }

    public int Port { get; }

    public void Dispose() => socket.Dispose();
}
