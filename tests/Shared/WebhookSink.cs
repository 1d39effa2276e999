using System.Collections.Concurrent;
using System.Net;

namespace PortWatch.Tests.Shared;

/// <summary>An HTTP endpoint on 127.0.0.1 that records what is posted to it and answers with a status the test chooses.</summary>
public sealed class WebhookSink : LoopbackHttpServer
{
    public string Url => $"{Root}/hooks/T000/secret";

    public HttpStatusCode Answer { get; set; } = HttpStatusCode.OK;

    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Text answered with the status (an internal page's secret, for the tests that it is never shown).</summary>
    public string? AnswerBody { get; set; }

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        Bodies.Enqueue(await BodyAsync(context.Request));
        await WriteAsync(context.Response, (int)Answer, AnswerBody);
    }
}
