using System.Collections.Concurrent;
using System.Net;

namespace PortWatch.Tests.Shared;

/// <summary>A CMDB on 127.0.0.1: answers GET with the body and status the test sets, and 401 without the expected header.</summary>
public sealed class InventoryServer : LoopbackHttpServer
{
    public string Url => $"{Root}/cmdb/assets";

    public string Body { get; set; } = "[]";

    public string ContentType { get; set; } = "application/json";

    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    /// <summary>"Name: value" every request must carry; null: none needed.</summary>
    public string? RequiredHeader { get; set; }

    public ConcurrentQueue<string?> SeenHeaders { get; } = new();

    protected override async Task AnswerAsync(HttpListenerContext context)
    {
        if (RequiredHeader is { } required)
        {
            var colon = required.IndexOf(':', StringComparison.Ordinal);
            var (name, value) = (required[..colon], required[(colon + 1)..].Trim());
            SeenHeaders.Enqueue(context.Request.Headers[name]);
            if (context.Request.Headers[name] != value)
            {
                await WriteAsync(context.Response, 401, null);
                return;
            }
        }
        await WriteAsync(context.Response, (int)Status, Body, ContentType);
    }
}
