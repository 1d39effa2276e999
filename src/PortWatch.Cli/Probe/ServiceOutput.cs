using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml;
using PortWatch.Scanning;
using PortWatch.Scanning.Probes;

namespace PortWatch.Cli.Probe;

/// <summary>Service facts as JSON fields, nmap XML, and a terminal-safe text line.</summary>
public static class ServiceOutput
{
    /// <summary>Adds service, product, version, extrainfo, cpe, tls, http (and banner) to a JSON line.</summary>
    public static void AddTo(JsonObject json, ServiceReport report)
    {
        var s = report.Service;
        json["service"] = report.DisplayName;
        json["product"] = s?.Product;
        json["version"] = s?.Version;
        json["extrainfo"] = s?.ExtraInfo;
        json["hostname"] = s?.Hostname;
        json["ostype"] = s?.OsType;
        json["devicetype"] = s?.DeviceType;
        json["cpe"] = new JsonArray((s?.Cpes ?? []).Select(c => (JsonNode)JsonValue.Create(c)!).ToArray());
        json["softmatch"] = s?.IsSoftMatch ?? false;
        json["tls"] = report.Tls is { } t
            ? new JsonObject
            {
                ["protocol"] = t.Protocol, ["subject"] = t.Subject, ["issuer"] = t.Issuer,
                ["sans"] = new JsonArray(t.SubjectAlternativeNames.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
                ["not_before"] = t.NotBefore.ToString("O", CultureInfo.InvariantCulture),
                ["not_after"] = t.NotAfter.ToString("O", CultureInfo.InvariantCulture),
                ["self_signed"] = t.SelfSigned, ["key_type"] = t.KeyType, ["key_size"] = t.KeySize,
            }
            : null;
        json["http"] = report.Http is { } h
            ? new JsonObject { ["status"] = h.Status, ["server"] = h.Server, ["title"] = h.Title, ["redirect"] = h.RedirectTo }
            : null;
        json["banner"] = report.Banner.Length > 0 ? System.Text.Encoding.Latin1.GetString(report.Banner) : null;
    }

    public static void WriteXml(XmlWriter xml, ServiceReport report)
    {
        var s = report.Service;
        xml.WriteStartElement("service");
        xml.WriteAttributeString("name", report.DisplayName);
        if (s?.Product is { } product)
            xml.WriteAttributeString("product", XmlSafe(product));
        if (s?.Version is { } version)
            xml.WriteAttributeString("version", XmlSafe(version));
        if (s?.ExtraInfo is { } info)
            xml.WriteAttributeString("extrainfo", XmlSafe(info));
        if (s?.OsType is { } os)
            xml.WriteAttributeString("ostype", XmlSafe(os));
        if (report.Tls is not null)
            xml.WriteAttributeString("tunnel", "ssl");
        xml.WriteAttributeString("method", "probed");
        xml.WriteAttributeString("conf", s is null ? "3" : s.IsSoftMatch ? "8" : "10");
        foreach (var cpe in s?.Cpes ?? [])
            xml.WriteElementString("cpe", XmlSafe(cpe));
        xml.WriteEndElement();
    }

    /// <summary>One line for a terminal: "ssl/http  nginx 1.22.1 (info)".</summary>
    public static string Describe(ServiceReport report)
    {
        var s = report.Service;
        var parts = new[] { s?.Product, s?.Version, s?.ExtraInfo is { } i ? $"({i})" : null }.Where(p => !string.IsNullOrEmpty(p));
        return $"{report.DisplayName,-16} {SafeText.ForTerminal(string.Join(' ', parts), 120)}";
    }

    public static IEnumerable<string> Details(ServiceReport report)
    {
        if (report.Tls is { } t)
        {
            yield return $"  tls: {t.Protocol}, subject {SafeText.ForTerminal(t.Subject)}, issuer {SafeText.ForTerminal(t.Issuer)}" +
                (t.SelfSigned ? " (self-signed)" : "");
            yield return $"       valid {t.NotBefore:yyyy-MM-dd} to {t.NotAfter:yyyy-MM-dd}, {t.KeyType} {t.KeySize} bits" +
                (t.SubjectAlternativeNames.Count > 0 ? $", names {SafeText.ForTerminal(string.Join(", ", t.SubjectAlternativeNames))}" : "");
        }
        if (report.Http is { } h)
            yield return $"  http: {h.Status}" + (h.Title is { } title ? $", title \"{SafeText.ForTerminal(title, 80)}\"" : "") +
                (h.Server is { } server ? $", server {SafeText.ForTerminal(server, 60)}" : "") +
                (h.RedirectTo is { } location ? $", redirects to {SafeText.ForTerminal(location, 80)}" : "");
        if (report.Service is null && report.Banner.Length > 0)
            yield return $"  banner: {SafeText.ForTerminal(System.Text.Encoding.Latin1.GetString(report.Banner), 160)}";
        if (report.Error is { } error)
            yield return $"  note: {error}";
    }

    /// <summary>XML 1.0 cannot carry most control characters at all; scanned text may contain them.</summary>
    public static string XmlSafe(string text) =>
        string.Concat(text.Select(c => XmlConvert.IsXmlChar(c) ? c.ToString() : $"\\x{(int)c:x2}"));
}
