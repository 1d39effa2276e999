using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortWatch.Tests.Shared;

/// <summary>
/// An HTTP server on 127.0.0.1 at a free port for the stand-ins of the systems PortWatch calls
/// (webhooks, a CMDB, Jira, EC2): it serves requests one at a time until disposed and leaves
/// each answer to <see cref="AnswerAsync"/>. An answer that throws becomes a 500.
/// </summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly CancellationTokenSource stop = new();

    protected LoopbackHttpServer()
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

    protected string Root => $"http://127.0.0.1:{Port}";

    /// <summary>Answers one request; the response is closed afterwards.</summary>
    protected abstract Task AnswerAsync(HttpListenerContext context);

    protected static async Task<string> BodyAsync(HttpListenerRequest request)
    {
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    protected static async Task WriteAsync(HttpListenerResponse response, int status, string? body, string contentType = "application/json")
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        if (body is not null)
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
    }

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
            try
            {
                await AnswerAsync(context);
            }
            catch (Exception)
            {
                context.Response.StatusCode = 500;
            }
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
        GC.SuppressFinalize(this);
    }
}
