using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortWatch.Tests.Shared;

/// <summary>A CMDB on 127.0.0.1: answers GET with the body and status the test sets, and 401 without the expected header.</summary>
public sealed class InventoryServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly CancellationTokenSource stop = new();

    public InventoryServer()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/cmdb/assets";

    public string Body { get; set; } = "[]";

    public string ContentType { get; set; } = "application/json";

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    /// <summary>"Name: value" every request must carry; null: none needed.</summary>
    public string? RequiredHeader { get; set; }

    public ConcurrentQueue<string?> SeenHeaders { get; } = new();

    private async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            var response = context.Response;
            if (RequiredHeader is { } required)
            {
                var name = required[..required.IndexOf(':', StringComparison.Ordinal)];
                var value = required[(required.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                SeenHeaders.Enqueue(context.Request.Headers[name]);
                if (context.Request.Headers[name] != value)
                {
                    response.StatusCode = 401;
                    response.Close();
                    continue;
                }
            }
            response.StatusCode = (int)Status;
            response.ContentType = ContentType;
            var bytes = Encoding.UTF8.GetBytes(Body);
            await response.OutputStream.WriteAsync(bytes);
            response.Close();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
    }
}
