using System.Globalization;
using System.Net;
using System.Text;
using PortWatch.Scanning;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Reports;

/// <summary>
/// A self-contained, printable HTML report: summary, new, abnormal and high-risk tables, then
/// every host with its ports. No scripts, no external resources; every value HTML-encoded.
/// </summary>
public static class HtmlReport
{
    private const string Style = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2733; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
        h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 2px solid #3f51b5; padding-bottom: .2rem; }
        h3 { font-size: 1rem; margin: 1.25rem 0 .35rem; font-family: ui-monospace, monospace; }
        .muted { color: #5f6b7a; } .cards { display: flex; gap: .75rem; flex-wrap: wrap; margin: 1rem 0; }
        .card { border: 1px solid #d5dbe3; border-radius: 6px; padding: .5rem .9rem; min-width: 8rem; } .card b { display: block; font-size: 1.5rem; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e3e7ec; vertical-align: top; }
        th { background: #f1f3f7; } td.mono, .mono { font-family: ui-monospace, monospace; }
        .sev-Critical { color: #fff; background: #c62828; } .sev-High { color: #fff; background: #ef6c00; } .sev-Medium { background: #fff3c4; }
        .sev { padding: 0 .35rem; border-radius: 3px; font-size: 12px; }
        @media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } .host { page-break-inside: avoid; } }
        """;

    public static async Task WriteAsync(IAsyncEnumerable<ExportRow> source, ExportInfo info, Stream output, CancellationToken cancellationToken)
    {
        var rows = new List<ExportRow>();
        await foreach (var r in source.WithCancellation(cancellationToken))
            rows.Add(r);
        var newSince = info.GeneratedAt.AddDays(-7);
        var open = rows.Where(r => r.State == PortState.Open).ToList();
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(info.Title)).Append("</title>");
        html.Append("<meta name=\"viewport\" content=\"width=device-width\"><style>").Append(Style).Append("</style></head><body>");
        html.Append("<h1>").Append(E(info.Title)).Append("</h1>");
        html.Append("<p class=\"muted\">Generated ").Append(E(info.GeneratedAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)))
            .Append(" by PortWatch. Service names, titles and banners come from the scanned hosts and are shown as text.</p>");
        html.Append("<div class=\"cards\">");
        Card(html, "Hosts", rows.Select(r => r.Address).Distinct().Count());
        Card(html, "Open ports", open.Count);
        Card(html, "New (7 days)", open.Count(r => r.FirstSeen >= newSince));
        Card(html, "Abnormal", rows.Count(r => r.Status == TriageStatus.Abnormal));
        Card(html, "High-risk open", open.Count(r => r.Severity >= Severity.High));
        Card(html, "Unreviewed", rows.Count(r => r.Status == TriageStatus.Unreviewed));
        html.Append("</div>");

        Table(html, "New open ports (first seen in the last 7 days)", open.Where(r => r.FirstSeen >= newSince), "report-new");
        Table(html, "Abnormal", rows.Where(r => r.Status == TriageStatus.Abnormal), "report-abnormal");
        Table(html, "High-risk open ports", open.Where(r => r.Severity >= Severity.High), "report-high-risk");

        html.Append("<h2>Hosts</h2>");
        foreach (var host in rows.GroupBy(r => r.Address).OrderBy(g => Data.IpKey.From(IPAddress.Parse(g.Key)), StringComparer.Ordinal))
        {
            html.Append("<div class=\"host\"><h3>").Append(E(host.Key)).Append("</h3>");
            Rows(html, host.OrderBy(r => r.Protocol).ThenBy(r => r.Port), includeAddress: false);
            html.Append("</div>");
        }
        html.Append("</body></html>\n");
        var bytes = Encoding.UTF8.GetBytes(html.ToString());
        await output.WriteAsync(bytes, cancellationToken);
    }

    private static void Card(StringBuilder html, string title, int value) =>
        html.Append("<div class=\"card\"><span class=\"muted\">").Append(E(title)).Append("</span><b>").Append(value.ToString("N0", CultureInfo.InvariantCulture)).Append("</b></div>");

    private static void Table(StringBuilder html, string title, IEnumerable<ExportRow> rows, string id)
    {
        var list = rows.ToList();
        html.Append("<h2 id=\"").Append(id).Append("\">").Append(E(title)).Append(" (").Append(list.Count).Append(")</h2>");
        if (list.Count == 0)
        {
            html.Append("<p class=\"muted\">None.</p>");
            return;
        }
        Rows(html, list.OrderByDescending(r => r.Severity).ThenBy(r => r.Address, StringComparer.Ordinal).ThenBy(r => r.Port), includeAddress: true);
    }

    private static void Rows(StringBuilder html, IEnumerable<ExportRow> rows, bool includeAddress)
    {
        html.Append("<table><thead><tr>");
        if (includeAddress)
            html.Append("<th>Address</th>");
        html.Append("<th>Port</th><th>State</th><th>Service</th><th>Status</th><th>Severity</th><th>First seen</th><th>Last seen</th><th>Owner</th><th>Notes</th></tr></thead><tbody>");
        foreach (var r in rows)
        {
            html.Append("<tr>");
            if (includeAddress)
                html.Append("<td class=\"mono\">").Append(E(r.Address)).Append("</td>");
            html.Append("<td class=\"mono\">").Append(r.Kind == FindingKind.HostAnomaly ? "host" : $"{r.Port}/{r.Protocol.Name()}").Append("</td>");
            html.Append("<td>").Append(E(ExportWriters.State(r.State))).Append("</td>");
            var service = r.Kind == FindingKind.HostAnomaly ? "too many open ports" : string.Join(' ', new[] { r.Service, r.Product, r.Version }.Where(s => !string.IsNullOrEmpty(s)));
            html.Append("<td>").Append(E(service));
            if (!string.IsNullOrEmpty(r.HttpTitle))
                html.Append("<br><span class=\"muted\">title: ").Append(E(r.HttpTitle)).Append("</span>");
            html.Append("</td><td>").Append(E(r.Status?.ToString())).Append("</td>");
            html.Append("<td>");
            if (r.Severity is { } severity)
                html.Append("<span class=\"sev sev-").Append(severity).Append("\">").Append(severity).Append("</span>");
            html.Append("</td><td>").Append(E(r.FirstSeen?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("</td>");
            html.Append("<td>").Append(E(r.LastSeen?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).Append("</td>");
            html.Append("<td>").Append(E(r.Owner)).Append("</td><td>").Append(E(r.Notes)).Append("</td></tr>");
        }
        html.Append("</tbody></table>");
    }

    /// <summary>Printable, then HTML-encoded.</summary>
    private static string E(string? text) => string.IsNullOrEmpty(text) ? "" : WebUtility.HtmlEncode(SafeText.ForTerminal(text, 500));
}
