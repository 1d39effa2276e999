using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Tests.Testbed;

namespace PortWatch.Web.Tests.Testbed;

/// <summary>TCP listeners inside a test's network namespaces that take every connection, read until the other side closes (at most 5 s) and close it.</summary>
public sealed class NamespaceListeners : IDisposable
{
    private readonly List<Socket> sockets = [];
    private readonly CancellationTokenSource stopping = new();

    /// <returns>The port listened on (the system's choice for 0).</returns>
    public int Listen(NetworkNamespace ns, int port)
    {
        var socket = ns.NewSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, port));
        socket.Listen(512);
        lock (sockets)
            sockets.Add(socket);
        _ = AcceptAsync(socket);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private async Task AcceptAsync(Socket socket)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
                _ = DrainAsync(await socket.AcceptAsync(stopping.Token));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private async Task DrainAsync(Socket connection)
    {
        using (connection)
        {
            var buffer = new byte[65536];
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
                limit.CancelAfter(TimeSpan.FromSeconds(5));
                while (await connection.ReceiveAsync(buffer, SocketFlags.None, limit.Token) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        lock (sockets)
        {
            foreach (var socket in sockets)
                socket.Dispose();
        }
        stopping.Dispose();
    }
}
