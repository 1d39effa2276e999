using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortWatch.Tests.Shared;

/// <summary>A TCP service on 127.0.0.1 that greets every client with a banner (an SSH server, say) and then waits.</summary>
public sealed class BannerListener : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();

    /// <param name="hold">How long each client is kept before the listener hangs up.</param>
    public BannerListener(string banner, TimeSpan? hold = null)
    {
        var keep = hold ?? TimeSpan.FromSeconds(2);
        listener.Start(64);
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var bytes = Encoding.Latin1.GetBytes(banner);
        _ = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync(stop.Token);
                }
                catch (Exception)
                {
                    return; // stopped
                }
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            if (bytes.Length > 0)
                                await client.GetStream().WriteAsync(bytes, stop.Token);
                            await Task.Delay(keep, stop.Token);
                        }
                        catch (Exception)
                        {
                            // a probe that hung up, or the test ending
                        }
                    }
                });
            }
        });
    }

    public int Port { get; }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
    }
}
