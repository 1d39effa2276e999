using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Web.Configuration;

namespace PortWatch.Web.Tickets;

/// <summary>
/// Creates one Jira issue through the REST API v2 create-issue call (POST /rest/api/2/issue with
/// fields project, issuetype, summary, description, labels); Jira answers 201 with the new issue's
/// id, key and self link. The description is wiki markup, so the scanned text goes inside a
/// {noformat} block, where Jira renders nothing of it as markup or links.
/// </summary>
public sealed partial class JiraClient(IHttpClientFactory httpClients, IOptions<TicketOptions> options)
{
    /// <summary>Jira refuses summaries over 255 characters.</summary>
    public const int MaxSummary = 255;

    public async Task<CreatedTicket> CreateAsync(TicketDraft draft, CancellationToken cancellationToken)
    {
        var o = options.Value;
        var site = new Uri(o.JiraUrl!.TrimEnd('/') + "/");
        var body = new
        {
            fields = new
            {
                project = new { key = o.JiraProject!.Trim() },
                issuetype = new { name = o.JiraIssueType.Trim() },
                summary = draft.Summary.Length > MaxSummary ? draft.Summary[..(MaxSummary - 1)] + "…" : draft.Summary,
                description = Description(draft),
                labels = o.JiraLabels,
            },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(site, "rest/api/2/issue"))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrEmpty(o.JiraApiToken))
        {
            request.Headers.Authorization = string.IsNullOrEmpty(o.JiraUser)
                ? new AuthenticationHeaderValue("Bearer", o.JiraApiToken)
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.JiraUser}:{o.JiraApiToken}")));
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
            throw new TicketException($"Jira at {site.Authority} could not be reached: {SafeText.ForTerminal(ex.Message, 200)}", ex);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.Created && !response.IsSuccessStatusCode)
                throw new TicketException($"Jira answered {(int)response.StatusCode}{JiraErrors(text)}");
            string? key = null;
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String)
                    key = k.GetString();
            }
            catch (JsonException)
            {
            }
            if (key is null || !IssueKey().IsMatch(key))
                throw new TicketException($"Jira answered {(int)response.StatusCode} without an issue key; check Tickets:JiraUrl points at the site itself");
            return new CreatedTicket(key, new Uri(site, "browse/" + Uri.EscapeDataString(key)).ToString());
        }
    }

    /// <summary>Jira's own reasons (errorMessages, and errors by field), which say what to fix in the settings; nothing else of the body.</summary>
    private static string JiraErrors(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                return "";
            var reasons = new List<string>();
            if (json.RootElement.TryGetProperty("errorMessages", out var messages) && messages.ValueKind == JsonValueKind.Array)
                reasons.AddRange(messages.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.String).Select(m => m.GetString()!));
            if (json.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                reasons.AddRange(errors.EnumerateObject().Select(e => $"{e.Name}: {(e.Value.ValueKind == JsonValueKind.String ? e.Value.GetString() : e.Value.ToString())}"));
            return reasons.Count == 0 ? "" : ": " + SafeText.ForTerminal(string.Join("; ", reasons), 300);
        }
        catch (JsonException)
        {
            return "";
        }
    }

    internal static string Description(TicketDraft draft)
    {
        var text = new StringBuilder();
        text.Append(draft.Findings.Count).Append(" finding(s) from PortWatch, sent by ").Append(NoMarkup(draft.RequestedBy)).Append(".\n\n{noformat}\n");
        foreach (var f in draft.Findings)
        {
            text.Append(NoFormatSafe($"{f.Address} {f.Endpoint}  {f.Service}  severity {f.Severity}, {f.Status}"));
            if (f.Owner is not null)
                text.Append(NoFormatSafe($", owner {f.Owner}"));
            if (f.Assignee is not null)
                text.Append(NoFormatSafe($", assigned to {f.Assignee}"));
            text.Append('\n');
            if (f.Link is not null)
                text.Append("  ").Append(f.Link).Append('\n');
        }
        text.Append("{noformat}\n");
        return text.ToString();
    }

    /// <summary>Inside {noformat} only the closing tag means anything; a scanned "{noformat}" must not end the block.</summary>
    private static string NoFormatSafe(string text) => NoFormatTag().Replace(text, "{ noformat");

    private static string NoMarkup(string text) => MarkupCharacter().Replace(text, " ");

    [GeneratedRegex(@"[\[\]{}|*_+^~!#\-]")]
    private static partial Regex MarkupCharacter();

    [GeneratedRegex(@"\{noformat", RegexOptions.IgnoreCase)]
    private static partial Regex NoFormatTag();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")]
    private static partial Regex IssueKey();
}
