using System.Globalization;
using System.Text;
using System.Text.Json;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Reports;

/// <summary>
/// DefectDojo's "Generic Findings Import" JSON: <c>{"name", "type", "findings": [...]}</c> where each
/// finding has the required title, severity and description and only fields that importer accepts
/// (an unknown field makes DefectDojo refuse the whole file). unique_id_from_tool is the address,
/// port and protocol, stable across exports, so a re-import deduplicates instead of doubling.
/// </summary>
public static class DefectDojoExport
{
    public static async Task WriteAsync(IAsyncEnumerable<ExportRow> rows, ExportInfo info, Stream output, CancellationToken cancellationToken)
    {
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("name", "PortWatch");
        json.WriteString("type", "PortWatch external port monitoring");
        json.WriteString("description", ExportWriters.Clean(info.Title));
        json.WriteBoolean("dynamic_tool", true);
        json.WriteBoolean("static_tool", false);
        json.WriteStartArray("findings");
        await foreach (var r in rows.WithCancellation(cancellationToken))
        {
            WriteFinding(json, r);
            if (json.BytesPending > 32 * 1024)
                await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteFinding(Utf8JsonWriter json, ExportRow r)
    {
        var endpoint = r.Kind == FindingKind.HostAnomaly ? "host" : $"{r.Port}/{r.Protocol.Name()}";
        var service = ExportWriters.Clean(string.Join(' ', new[] { r.Service, r.Product, r.Version }.Where(s => !string.IsNullOrEmpty(s))));
        json.WriteStartObject();
        json.WriteString("title", r.Kind == FindingKind.HostAnomaly
            ? $"Too many open ports on {r.Address}"
            : $"Open port {endpoint} on {r.Address}{(string.IsNullOrEmpty(r.Service) ? "" : $" ({ExportWriters.Clean(r.Service)})")}");
        json.WriteString("severity", r.Severity?.ToString() ?? "Info"); // the same five names DefectDojo uses
        json.WriteString("description", Description(r, endpoint, service));
        if (r.FirstSeen is { } first)
            json.WriteString("date", first.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        json.WriteBoolean("active", r.State == PortState.Open && r.Status != TriageStatus.Resolved);
        json.WriteBoolean("verified", r.Status == TriageStatus.Abnormal);
        json.WriteBoolean("false_p", false);
        json.WriteBoolean("risk_accepted", r.Status == TriageStatus.Expected);
        json.WriteBoolean("static_finding", false);
        json.WriteBoolean("dynamic_finding", true);
        json.WriteString("unique_id_from_tool", $"{r.Address}:{endpoint}");
        json.WriteString("vuln_id_from_tool", r.Kind == FindingKind.HostAnomaly ? "portwatch-host-anomaly" : "portwatch-open-port");
        if (!string.IsNullOrEmpty(r.Service))
            json.WriteString("service", ExportWriters.Clean(r.Service));
        if (!string.IsNullOrEmpty(r.Product))
            json.WriteString("component_name", ExportWriters.Clean(r.Product));
        if (!string.IsNullOrEmpty(r.Version))
            json.WriteString("component_version", ExportWriters.Clean(r.Version));
        json.WriteString("mitigation", "Close the port or restrict who can reach it (firewall, security group), or record it as expected with a reason.");
        json.WriteStartArray("endpoints");
        json.WriteStartObject();
        json.WriteString("host", r.Address);
        if (r.Kind == FindingKind.Port)
            json.WriteNumber("port", r.Port);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartArray("tags");
        json.WriteStringValue("portwatch");
        json.WriteStringValue(r.Protocol.Name());
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Description(ExportRow r, string endpoint, string? service)
    {
        var text = new StringBuilder();
        text.Append("PortWatch saw ").Append(r.Address).Append(' ').Append(endpoint).Append(' ').Append(State(r.State)).Append('.');
        if (!string.IsNullOrEmpty(service))
            text.Append("\n\nService: ").Append(service);
        if (r.Cpes.Count > 0)
            text.Append("\nCPE: ").Append(ExportWriters.Clean(string.Join(' ', r.Cpes)));
        if (!string.IsNullOrEmpty(r.HttpTitle))
            text.Append("\nHTTP title: ").Append(ExportWriters.Clean(r.HttpTitle));
        if (!string.IsNullOrEmpty(r.TlsSubject))
            text.Append("\nTLS subject: ").Append(ExportWriters.Clean(r.TlsSubject));
        text.Append("\n\nTriage: ").Append(r.Status?.ToString() ?? "not reviewed");
        if (!string.IsNullOrEmpty(r.Owner))
            text.Append("\nOwner: ").Append(r.Owner);
        if (!string.IsNullOrEmpty(r.Assignee))
            text.Append("\nAssignee: ").Append(r.Assignee);
        if (r.FirstSeen is { } first)
            text.Append("\nFirst seen: ").Append(first.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        if (r.LastSeen is { } last)
            text.Append("\nLast seen: ").Append(last.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        return text.ToString();
    }

    private static string State(PortState state) => state switch
    {
        PortState.Open => "open",
        PortState.Closed => "closed",
        PortState.Filtered => "filtered",
        _ => "open|filtered",
    };
}
