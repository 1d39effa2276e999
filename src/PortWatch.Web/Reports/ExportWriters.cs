using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Xml;
using PortWatch.Scanning;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Reports;

public enum ExportFormat
{
    Csv,
    Json,
    /// <summary>Nmap's -oX format, readable by nmap tooling (and by PortWatch's import).</summary>
    Xml,
    Html,
    /// <summary>DefectDojo's "Generic Findings Import" JSON, for loading the findings into DefectDojo.</summary>
    DefectDojo,
}

/// <summary>
/// Writes export rows as CSV, JSON, Nmap XML or a self-contained HTML report. Scanned text is
/// made printable first (control characters escaped); then each format's own encoding applies,
/// and CSV cells that a spreadsheet would run as formulas are neutralised.
/// </summary>
public static class ExportWriters
{
    public static string ContentType(ExportFormat format) => format switch
    {
        ExportFormat.Csv => "text/csv; charset=utf-8",
        ExportFormat.Json or ExportFormat.DefectDojo => "application/json; charset=utf-8",
        ExportFormat.Xml => "application/xml; charset=utf-8",
        _ => "text/html; charset=utf-8",
    };

    public static string Extension(ExportFormat format) => format switch
    {
        ExportFormat.Csv => "csv",
        ExportFormat.Json => "json",
        ExportFormat.DefectDojo => "defectdojo.json",
        ExportFormat.Xml => "xml",
        _ => "html",
    };

    public static Task WriteAsync(ExportFormat format, IAsyncEnumerable<ExportRow> rows, ExportInfo info, Stream output, CancellationToken cancellationToken) => format switch
    {
        ExportFormat.Csv => WriteCsvAsync(rows, output, cancellationToken),
        ExportFormat.Json => WriteJsonAsync(rows, info, output, cancellationToken),
        ExportFormat.Xml => WriteNmapXmlAsync(rows, info, output, cancellationToken),
        ExportFormat.DefectDojo => DefectDojoExport.WriteAsync(rows, info, output, cancellationToken),
        _ => HtmlReport.WriteAsync(rows, info, output, cancellationToken),
    };

    private static readonly string[] CsvHeader =
        ["address", "port", "protocol", "kind", "state", "reason", "service", "product", "version", "extra_info", "cpes", "http_title",
         "status", "severity", "first_seen", "last_seen", "owner", "assignee", "notes"];

    public static async Task WriteCsvAsync(IAsyncEnumerable<ExportRow> rows, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', CsvHeader));
        await foreach (var r in rows.WithCancellation(cancellationToken))
        {
            string?[] cells =
            [
                r.Address, r.Port.ToString(CultureInfo.InvariantCulture), r.Protocol.Name(), r.Kind.ToString(), State(r.State), r.Reason,
                Clean(r.Service), Clean(r.Product), Clean(r.Version), Clean(r.ExtraInfo), Clean(string.Join(' ', r.Cpes)), Clean(r.HttpTitle),
                r.Status?.ToString(), r.Severity?.ToString(), Time(r.FirstSeen), Time(r.LastSeen), r.Owner, r.Assignee, r.Notes,
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(CsvCell)));
        }
    }

    /// <summary>
    /// One CSV cell: a leading =, +, -, @ (or tab/CR) makes spreadsheets evaluate a formula, so such
    /// cells get a leading apostrophe (OWASP's advice); quotes and separators are quoted per RFC 4180.
    /// </summary>
    public static string CsvCell(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static async Task WriteJsonAsync(IAsyncEnumerable<ExportRow> rows, ExportInfo info, Stream output, CancellationToken cancellationToken)
    {
        await using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("title", info.Title);
        json.WriteString("generatedAt", info.GeneratedAt);
        json.WriteStartArray("ports");
        await foreach (var r in rows.WithCancellation(cancellationToken))
        {
            json.WriteStartObject();
            json.WriteString("address", r.Address);
            json.WriteNumber("port", r.Port);
            json.WriteString("protocol", r.Protocol.Name());
            json.WriteString("kind", r.Kind.ToString());
            json.WriteString("state", State(r.State));
            Optional(json, "reason", r.Reason);
            if (r.Ttl is { } ttl)
                json.WriteNumber("ttl", ttl);
            Optional(json, "service", Clean(r.Service));
            Optional(json, "product", Clean(r.Product));
            Optional(json, "version", Clean(r.Version));
            Optional(json, "extraInfo", Clean(r.ExtraInfo));
            json.WriteStartArray("cpes");
            foreach (var cpe in r.Cpes)
                json.WriteStringValue(Clean(cpe));
            json.WriteEndArray();
            Optional(json, "httpTitle", Clean(r.HttpTitle));
            Optional(json, "status", r.Status?.ToString());
            Optional(json, "severity", r.Severity?.ToString());
            Optional(json, "firstSeen", Time(r.FirstSeen));
            Optional(json, "lastSeen", Time(r.LastSeen));
            Optional(json, "owner", r.Owner);
            Optional(json, "assignee", r.Assignee);
            Optional(json, "notes", r.Notes);
            json.WriteEndObject();
            if (json.BytesPending > 32 * 1024)
                await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Nmap -oX: one host element per address, its open ports with state, reason and service.</summary>
    public static async Task WriteNmapXmlAsync(IAsyncEnumerable<ExportRow> rows, ExportInfo info, Stream output, CancellationToken cancellationToken)
    {
        var hosts = new SortedDictionary<string, List<ExportRow>>(StringComparer.Ordinal);
        await foreach (var r in rows.WithCancellation(cancellationToken))
        {
            if (r.Kind != FindingKind.Port)
                continue; // host-level anomalies have no nmap form
            var key = Data.IpKey.From(IPAddress.Parse(r.Address));
            (hosts.TryGetValue(key, out var list) ? list : hosts[key] = []).Add(r);
        }
        var settings = new XmlWriterSettings { Async = true, Indent = true, Encoding = new UTF8Encoding(false), CheckCharacters = true };
        await using var xml = XmlWriter.Create(output, settings);
        await xml.WriteStartDocumentAsync();
        await xml.WriteDocTypeAsync("nmaprun", null, null, null);
        var start = info.StartedAt ?? info.GeneratedAt;
        await xml.WriteStartElementAsync(null, "nmaprun", null);
        await xml.WriteAttributeStringAsync(null, "scanner", null, "portwatch");
        await xml.WriteAttributeStringAsync(null, "args", null, Xml(info.Title));
        await xml.WriteAttributeStringAsync(null, "start", null, Unix(start));
        await xml.WriteAttributeStringAsync(null, "startstr", null, start.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture));
        await xml.WriteAttributeStringAsync(null, "version", null, "1.0");
        await xml.WriteAttributeStringAsync(null, "xmloutputversion", null, "1.05");
        foreach (var (protocol, spec) in new[] { ("tcp", info.ScannedTcpPorts), ("udp", info.ScannedUdpPorts) })
        {
            if (string.IsNullOrEmpty(spec))
                continue;
            await xml.WriteStartElementAsync(null, "scaninfo", null);
            await xml.WriteAttributeStringAsync(null, "type", null, protocol == "tcp" ? "syn" : "udp");
            await xml.WriteAttributeStringAsync(null, "protocol", null, protocol);
            await xml.WriteAttributeStringAsync(null, "services", null, spec);
            await xml.WriteEndElementAsync();
        }
        foreach (var ports in hosts.Values)
        {
            var address = ports[0].Address;
            await xml.WriteStartElementAsync(null, "host", null);
            await xml.WriteStartElementAsync(null, "status", null);
            await xml.WriteAttributeStringAsync(null, "state", null, "up");
            await xml.WriteAttributeStringAsync(null, "reason", null, "user-set");
            await xml.WriteEndElementAsync();
            await xml.WriteStartElementAsync(null, "address", null);
            await xml.WriteAttributeStringAsync(null, "addr", null, address);
            await xml.WriteAttributeStringAsync(null, "addrtype", null, IPAddress.Parse(address).AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
            await xml.WriteEndElementAsync();
            await xml.WriteStartElementAsync(null, "ports", null);
            foreach (var r in ports.OrderBy(p => p.Protocol).ThenBy(p => p.Port))
            {
                await xml.WriteStartElementAsync(null, "port", null);
                await xml.WriteAttributeStringAsync(null, "protocol", null, r.Protocol.Name());
                await xml.WriteAttributeStringAsync(null, "portid", null, r.Port.ToString(CultureInfo.InvariantCulture));
                await xml.WriteStartElementAsync(null, "state", null);
                await xml.WriteAttributeStringAsync(null, "state", null, State(r.State));
                await xml.WriteAttributeStringAsync(null, "reason", null, r.Reason ?? "unknown");
                if (r.Ttl is { } ttl)
                    await xml.WriteAttributeStringAsync(null, "reason_ttl", null, ttl.ToString(CultureInfo.InvariantCulture));
                await xml.WriteEndElementAsync();
                if (r.Service is not null || r.Product is not null)
                {
                    await xml.WriteStartElementAsync(null, "service", null);
                    await xml.WriteAttributeStringAsync(null, "name", null, Xml(r.Service) ?? "unknown");
                    if (Xml(r.Product) is { } product) await xml.WriteAttributeStringAsync(null, "product", null, product);
                    if (Xml(r.Version) is { } version) await xml.WriteAttributeStringAsync(null, "version", null, version);
                    if (Xml(r.ExtraInfo) is { } extra) await xml.WriteAttributeStringAsync(null, "extrainfo", null, extra);
                    await xml.WriteAttributeStringAsync(null, "method", null, "probed");
                    await xml.WriteAttributeStringAsync(null, "conf", null, "10");
                    foreach (var cpe in r.Cpes)
                        await xml.WriteElementStringAsync(null, "cpe", null, Xml(cpe) ?? "");
                    await xml.WriteEndElementAsync();
                }
                await xml.WriteEndElementAsync();
            }
            await xml.WriteEndElementAsync();
            await xml.WriteEndElementAsync();
        }
        var end = info.FinishedAt ?? info.GeneratedAt;
        await xml.WriteStartElementAsync(null, "runstats", null);
        await xml.WriteStartElementAsync(null, "finished", null);
        await xml.WriteAttributeStringAsync(null, "time", null, Unix(end));
        await xml.WriteAttributeStringAsync(null, "exit", null, "success");
        await xml.WriteEndElementAsync();
        await xml.WriteStartElementAsync(null, "hosts", null);
        await xml.WriteAttributeStringAsync(null, "up", null, hosts.Count.ToString(CultureInfo.InvariantCulture));
        await xml.WriteAttributeStringAsync(null, "down", null, "0");
        await xml.WriteAttributeStringAsync(null, "total", null, hosts.Count.ToString(CultureInfo.InvariantCulture));
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await xml.WriteEndDocumentAsync();
    }

    public static string State(PortState state) => state switch
    {
        PortState.Open => "open",
        PortState.Closed => "closed",
        PortState.Filtered => "filtered",
        _ => "open|filtered",
    };

    private static string? Time(DateTime? utc) => utc?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static string Unix(DateTime utc) => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Printable text: control characters escaped (they would also be invalid in XML 1.0).</summary>
    public static string? Clean(string? text) => string.IsNullOrEmpty(text) ? text : SafeText.ForTerminal(text, 2048);

    /// <summary>
    /// For XML attributes: the same as <see cref="Clean"/> but without turning backslashes into
    /// pairs, so a value survives an export and re-import unchanged unless it had control characters.
    /// </summary>
    private static string? Xml(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text;
        return text.Any(c => char.IsControl(c) || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF') ? SafeText.ForTerminal(text, 2048) : text;
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
            json.WriteString(name, value);
    }
}
