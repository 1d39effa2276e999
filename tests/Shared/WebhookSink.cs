using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PortWatch.Tests.Shared;

/// <summary>An HTTP endpoint on 127.0.0.1 that records what is posted to it and answers with a status the test chooses.</summary>
public sealed class WebhookSink : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly CancellationTokenSource stop = new();

    public WebhookSink()
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

    public string Url => $"http://127.0.0.1:{Port}/hooks/T000/secret";

    public HttpStatusCode Answer { get; set; } = HttpStatusCode.OK;

    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Text answered with the status (an internal page's secret, for the tests that it is never shown).</summary>
    public string? AnswerBody { get; set; }

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
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                Bodies.Enqueue(await reader.ReadToEndAsync());
            context.Response.StatusCode = (int)Answer;
            if (AnswerBody is { } body)
            {
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
    }
}
