using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tickets;

/// <summary>
/// Sends a ticket request to the configured webhook as JSON: <c>{"event": "portwatch.ticket",
/// "summary", "requestedBy", "findings": [...]}</c>. A 2xx answer with a JSON object whose "key"
/// and "url" are strings names the ticket the receiver made; otherwise the ticket is known by the
/// time it was sent.
/// </summary>
public sealed class TicketWebhookClient(IHttpClientFactory httpClients, IOptions<TicketOptions> options, TimeProvider clock)
{
    public async Task<CreatedTicket> SendAsync(TicketDraft draft, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var url = new Uri(o.WebhookUrl!);
        var body = new
        {
            @event = "portwatch.ticket",
            summary = draft.Summary,
            requestedBy = draft.RequestedBy,
            findings = draft.Findings.Select(f => new
            {
                id = f.Id, address = f.Address, endpoint = f.Endpoint, service = f.Service, severity = f.Severity, status = f.Status,
                owner = f.Owner, assignee = f.Assignee, link = f.Link,
            }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        if (!string.IsNullOrWhiteSpace(o.WebhookHeader))
        {
            var colon = o.WebhookHeader.IndexOf(':', StringComparison.Ordinal);
            request.Headers.TryAddWithoutValidation(o.WebhookHeader[..colon].Trim(), o.WebhookHeader[(colon + 1)..].Trim());
        }
        var client = httpClients.CreateClient(TicketService.HttpClientName);
        client.Timeout = TimeSpan.FromMilliseconds(o.TimeoutMs);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new TicketException($"the ticket webhook at {url.Authority} could not be reached: {SafeText.ForTerminal(ex.Message, 200)}", ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new TicketException($"the ticket webhook at {url.Authority} answered {(int)response.StatusCode}");
            string? key = null, link = null;
            try
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (json.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (json.RootElement.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String)
                        key = SafeText.ForTerminal(k.GetString(), 100);
                    if (json.RootElement.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String
                        && Uri.TryCreate(u.GetString(), UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https")
                        link = parsed.ToString();
                }
            }
            catch (JsonException)
            {
            }
            return new CreatedTicket(string.IsNullOrWhiteSpace(key) ? $"sent {clock.GetUtcNow().UtcDateTime:yyyy-MM-dd HH:mm} UTC" : key, link);
        }
    }
}
