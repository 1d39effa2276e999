using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PortWatch.Scanning;

namespace PortWatch.Web.Alerts;

/// <summary>
/// Turns a digest into what each channel expects. Scanned text is first made printable
/// (control characters escaped, length cut) and then encoded for the target format, so a banner
/// cannot inject markup, mentions, links or mail headers.
/// </summary>
public static class AlertFormatter
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>
    /// Generic webhook: the digest itself as JSON (the serializer escapes what JSON needs). runUrl is left out, not
    /// null, when Alerts:DashboardUrl is not set (start-up says so): PortWatch does not guess its public address.
    /// </summary>
    public static string Webhook(AlertDigest digest)
    {
        var payload = new Dictionary<string, object?>
        {
            ["source"] = "portwatch",
            ["type"] = "scan-digest",
            ["runId"] = digest.RunId,
            ["subject"] = digest.Subject,
            ["generatedAt"] = digest.GeneratedAt,
        };
        if (digest.RunUrl is not null)
            payload["runUrl"] = digest.RunUrl;
        payload["items"] = digest.Items.Select(i => i with
        {
            Service = Clean(i.Service), Product = Clean(i.Product), Version = Clean(i.Version), Detail = Clean(i.Detail, 500), Recheck = Clean(i.Recheck, 500),
        });
        return JsonSerializer.Serialize(payload, Json);
    }

    /// <summary>Slack incoming webhook: mrkdwn text; &amp;, &lt; and &gt; escaped as Slack requires (no mentions or links from banners).</summary>
    public static string Slack(AlertDigest digest)
    {
        var text = new StringBuilder().Append('*').Append(SlackEscape(digest.Subject)).Append('*');
        foreach (var item in digest.Items)
            text.Append('\n').Append("• ").Append(SlackEscape(Line(item)));
        if (digest.RunUrl is { } url)
            text.Append('\n').Append('<').Append(SlackEscape(url)).Append("|Open the run in PortWatch>");
        return new JsonObject { ["text"] = text.ToString() }.ToJsonString();
    }

    /// <summary>Teams incoming webhook (MessageCard): HTML and Markdown characters escaped.</summary>
    public static string Teams(AlertDigest digest)
    {
        var lines = digest.Items.Select(i => TeamsEscape(Line(i)));
        var card = new JsonObject
        {
            ["@type"] = "MessageCard",
            ["@context"] = "https://schema.org/extensions",
            ["summary"] = digest.Subject,
            ["themeColor"] = "D13438",
            ["title"] = TeamsEscape(digest.Subject),
            ["text"] = string.Join("\n\n", lines),
        };
        if (digest.RunUrl is { } url)
        {
            card["potentialAction"] = new JsonArray(new JsonObject
            {
                ["@type"] = "OpenUri",
                ["name"] = "Open in PortWatch",
                ["targets"] = new JsonArray(new JsonObject { ["os"] = "default", ["uri"] = url }),
            });
        }
        return card.ToJsonString();
    }

    /// <summary>A subject line safe for a mail header: no line breaks.</summary>
    public static string MailSubject(AlertDigest digest) => Clean(digest.Subject, 200)!.Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>Plain-text mail body.</summary>
    public static string MailBody(AlertDigest digest)
    {
        var body = new StringBuilder();
        body.AppendLine(Clean(digest.Subject, 200)).AppendLine();
        foreach (var item in digest.Items)
            body.Append("- ").AppendLine(Line(item));
        if (digest.RunUrl is { } url)
            body.AppendLine().Append("Run: ").AppendLine(url);
        body.AppendLine().AppendLine("Service names and banners come from the scanned hosts and are shown as text only.");
        return body.ToString();
    }

    /// <summary>One finding as one line of plain (already cleaned) text.</summary>
    public static string Line(AlertItem item)
    {
        var service = string.Join(' ', new[] { Clean(item.Service), Clean(item.Product), Clean(item.Version) }.Where(s => !string.IsNullOrEmpty(s)));
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{item.Severity.ToUpperInvariant()} {FormatEndpoint(item)} {item.Change}");
        if (item.RiskName is { } risk)
            text.Append(CultureInfo.InvariantCulture, $" [{Clean(risk, 80)}]");
        if (service.Length > 0)
            text.Append(" - ").Append(service);
        if (item.Detail is { } detail)
            text.Append(" (").Append(Clean(detail, 300)).Append(')');
        if (item.Recheck is { } recheck)
            text.Append("; ").Append(Clean(recheck, 300));
        return text.ToString();
    }

    private static string FormatEndpoint(AlertItem item)
    {
        var host = item.Address.Contains(':', StringComparison.Ordinal) ? $"[{item.Address}]" : item.Address;
        return item.Port == 0 ? $"{host} (host)" : $"{host}:{item.Port}/{item.Protocol}";
    }

    public static string? Clean(string? text, int max = 120) => text is null ? null : SafeText.ForTerminal(text, max);

    private static string SlackEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string TeamsEscape(string text)
    {
        var html = WebUtility.HtmlEncode(text);
        var escaped = new StringBuilder(html.Length);
        foreach (var c in html)
        {
            if (c is '\\' or '*' or '_' or '`' or '[' or ']' or '(' or ')' or '#' or '~' or '|' or '!')
                escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
