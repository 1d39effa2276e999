using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Imports;

public enum ScanFileFormat
{
    NmapXml,
    MasscanJson,
    MasscanList,
}

public sealed record ParsedPort(int Port, TransportProtocol Protocol, PortState State, string Reason, int? Ttl,
    string? Service, string? Product, string? Version, string? ExtraInfo, IReadOnlyList<string> Cpes, string? Banner);

/// <summary>A host in the file; <see cref="Up"/> false when the scanner saw no sign of life (its ports are unknown, not closed).</summary>
public sealed record ParsedHost(string Address, bool Up, List<ParsedPort> Ports);

public sealed record ParsedScan(string Scanner, List<ParsedHost> Hosts, string? TcpPorts, string? UdpPorts, DateTime? StartedAt, DateTime? FinishedAt);

/// <summary>A file that cannot be imported, with what is wrong and where.</summary>
public sealed class ScanFileException(string message) : Exception(message);

/// <summary>
/// Reads Nmap XML (-oX) and masscan output (-oJ and -oL). The XML reader processes no DTD and
/// resolves no external entity (XXE, entity expansion), and every format is read whole into memory
/// before anything is stored, under a size limit, so a bad file stores nothing.
/// </summary>
public static class ScanFileParser
{
    public static ScanFileFormat Detect(ReadOnlySpan<byte> head)
    {
        var text = Encoding.UTF8.GetString(head).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (text.StartsWith('<'))
            return ScanFileFormat.NmapXml;
        if (text.StartsWith('[') || text.StartsWith('{'))
            return ScanFileFormat.MasscanJson;
        return ScanFileFormat.MasscanList;
    }

    public static ParsedScan Parse(byte[] content, ScanFileFormat format) => format switch
    {
        ScanFileFormat.NmapXml => ParseNmapXml(content),
        ScanFileFormat.MasscanJson => ParseMasscanJson(content),
        _ => ParseMasscanList(content),
    };

    public static ParsedScan ParseNmapXml(byte[] content)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore, // nmap writes <!DOCTYPE nmaprun>; its DTD is never read or applied
            XmlResolver = null,
            MaxCharactersFromEntities = 1024,
            MaxCharactersInDocument = content.LongLength * 2 + 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
        };
        var hosts = new List<ParsedHost>();
        string? tcp = null, udp = null;
        DateTime? started = null, finished = null;
        var sawRoot = false;
        using var reader = XmlReader.Create(new MemoryStream(content), settings);
        try
        {
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                switch (reader.Name)
                {
                    case "nmaprun":
                        sawRoot = true;
                        started = Unix(reader.GetAttribute("start"));
                        break;
                    case "scaninfo":
                        var services = reader.GetAttribute("services");
                        if (reader.GetAttribute("protocol") == "udp") udp = services;
                        else if (reader.GetAttribute("protocol") == "tcp") tcp = services;
                        break;
                    case "host":
                        if (!sawRoot)
                            throw new ScanFileException("not an Nmap XML file: the root element is not <nmaprun>");
                        hosts.Add(ReadHost(reader.ReadSubtree(), Line(reader)));
                        break;
                    case "finished":
                        finished = Unix(reader.GetAttribute("time"));
                        break;
                    default:
                        if (!sawRoot)
                            throw new ScanFileException($"not an Nmap XML file: the root element is <{reader.Name}>, not <nmaprun>");
                        break;
                }
            }
        }
        catch (XmlException ex)
        {
            throw new ScanFileException($"the XML is not well-formed or complete (line {ex.LineNumber}, position {ex.LinePosition}): {ex.Message}");
        }
        if (!sawRoot)
            throw new ScanFileException("not an Nmap XML file: no <nmaprun> element");
        if (finished is null)
            throw new ScanFileException("the Nmap XML file is truncated: it has no <runstats><finished> element (was the scan interrupted?)");
        return new ParsedScan("nmap", hosts, Validate(tcp, PortProtocol.Tcp), Validate(udp, PortProtocol.Udp), started, finished);
    }

    private static ParsedHost ReadHost(XmlReader host, int line)
    {
        string? address = null;
        var up = true;
        var ports = new List<ParsedPort>();
        while (host.Read())
        {
            if (host.NodeType != XmlNodeType.Element)
                continue;
            switch (host.Name)
            {
                case "status":
                    up = host.GetAttribute("state") != "down";
                    break;
                case "address" when host.GetAttribute("addrtype") is "ipv4" or "ipv6":
                    address = host.GetAttribute("addr");
                    break;
                case "port":
                    ports.Add(ReadPort(host.ReadSubtree(), host.GetAttribute("protocol"), host.GetAttribute("portid"), line));
                    break;
            }
        }
        if (address is null || !IPAddress.TryParse(address, out var ip))
            throw new ScanFileException($"host near line {line} has no valid IPv4/IPv6 address ('{Short(address)}')");
        return new ParsedHost(IpAddressMath.Normalize(ip).ToString(), up, ports);
    }

    private static ParsedPort ReadPort(XmlReader port, string? protocolText, string? portText, int line)
    {
        var protocol = protocolText switch
        {
            "tcp" => TransportProtocol.Tcp,
            "udp" => TransportProtocol.Udp,
            _ => throw new ScanFileException($"port near line {line}: protocol '{Short(protocolText)}' is not tcp or udp"),
        };
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 0 or > 65535)
            throw new ScanFileException($"port near line {line}: '{Short(portText)}' is not a port number");
        PortState? state = null;
        string reason = "unknown";
        int? ttl = null;
        string? name = null, product = null, version = null, extra = null;
        var cpes = new List<string>();
        while (port.Read())
        {
            if (port.NodeType != XmlNodeType.Element)
                continue;
            switch (port.Name)
            {
                case "state":
                    state = StateOf(port.GetAttribute("state"), line);
                    reason = Bound(port.GetAttribute("reason"), 50) ?? "unknown";
                    ttl = int.TryParse(port.GetAttribute("reason_ttl"), NumberStyles.None, CultureInfo.InvariantCulture, out var t) && t <= 255 ? t : null;
                    break;
                case "service":
                    name = Bound(port.GetAttribute("name"), 100);
                    product = Bound(port.GetAttribute("product"), 200);
                    version = Bound(port.GetAttribute("version"), 200);
                    extra = Bound(port.GetAttribute("extrainfo"), 500);
                    break;
                case "cpe":
                    if (cpes.Count < 20 && Bound(port.ReadElementContentAsString(), 300) is { Length: > 0 } cpe)
                        cpes.Add(cpe);
                    break;
            }
        }
        return new ParsedPort(number, protocol, state ?? throw new ScanFileException($"port {number} near line {line} has no <state>"), reason, ttl,
            name, product, version, extra, cpes, null);
    }

    public static ParsedScan ParseMasscanJson(byte[] content)
    {
        // masscan -oJ writes one object per line between [ and ], with trailing commas in some versions.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new ScanFileException($"the masscan JSON is not valid or complete (line {(ex.LineNumber ?? 0) + 1}): {ex.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new ScanFileException("not masscan JSON: the top level is not an array of results");
            var hosts = new Dictionary<string, ParsedHost>();
            var index = 0;
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                index++;
                if (entry.ValueKind != JsonValueKind.Object)
                    throw new ScanFileException($"result {index} is not an object");
                if (entry.TryGetProperty("finished", out _))
                    continue;
                if (!entry.TryGetProperty("ip", out var ipElement) || ipElement.ValueKind != JsonValueKind.String || !IPAddress.TryParse(ipElement.GetString(), out var ip))
                    throw new ScanFileException($"result {index} has no valid \"ip\"");
                if (!entry.TryGetProperty("ports", out var ports) || ports.ValueKind != JsonValueKind.Array)
                    throw new ScanFileException($"result {index} ({ip}) has no \"ports\" array");
                var address = IpAddressMath.Normalize(ip).ToString();
                if (!hosts.TryGetValue(address, out var host))
                    hosts[address] = host = new ParsedHost(address, true, []);
                foreach (var p in ports.EnumerateArray())
                {
                    if (!p.TryGetProperty("port", out var portElement) || !portElement.TryGetInt32(out var number) || number is < 0 or > 65535)
                        throw new ScanFileException($"result {index} ({ip}) has a port that is not a number from 0 to 65535");
                    var protocol = (p.TryGetProperty("proto", out var proto) ? proto.GetString() : "tcp") switch
                    {
                        "tcp" => TransportProtocol.Tcp,
                        "udp" => TransportProtocol.Udp,
                        var other => throw new ScanFileException($"result {index} ({ip}) port {number}: protocol '{Short(other)}' is not tcp or udp"),
                    };
                    var status = p.TryGetProperty("status", out var st) ? st.GetString() : null;
                    var service = p.TryGetProperty("service", out var sv) && sv.ValueKind == JsonValueKind.Object ? sv : (JsonElement?)null;
                    if (status is null && service is null)
                        throw new ScanFileException($"result {index} ({ip}) port {number} has neither \"status\" nor \"service\"");
                    var existing = host.Ports.FindIndex(x => x.Port == number && x.Protocol == protocol);
                    if (service is { } s)
                    {
                        // A banner record for a port reported open in another record.
                        var banner = s.TryGetProperty("banner", out var b) ? Bound(b.GetString(), 2048) : null;
                        var name = s.TryGetProperty("name", out var n) ? Bound(n.GetString(), 100) : null;
                        var basePort = existing >= 0 ? host.Ports[existing] : new ParsedPort(number, protocol, PortState.Open, "syn-ack", null, null, null, null, null, [], null);
                        var merged = basePort with { Service = name ?? basePort.Service, Banner = banner ?? basePort.Banner };
                        if (existing >= 0) host.Ports[existing] = merged; else host.Ports.Add(merged);
                        continue;
                    }
                    var state = StateOf(status, index);
                    var reason = p.TryGetProperty("reason", out var r) ? Bound(r.GetString(), 50) ?? "unknown" : "unknown";
                    int? ttl = p.TryGetProperty("ttl", out var ttlElement) && ttlElement.TryGetInt32(out var t) && t is >= 0 and <= 255 ? t : null;
                    var parsed = new ParsedPort(number, protocol, state, reason, ttl, null, null, null, null, [], null);
                    if (existing >= 0) host.Ports[existing] = parsed with { Service = host.Ports[existing].Service, Banner = host.Ports[existing].Banner };
                    else host.Ports.Add(parsed);
                }
            }
            return new ParsedScan("masscan", hosts.Values.ToList(), null, null, null, null);
        }
    }

    public static ParsedScan ParseMasscanList(byte[] content)
    {
        var text = Encoding.UTF8.GetString(content);
        var hosts = new Dictionary<string, ParsedHost>();
        var number = 0;
        var sawHeader = false;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                sawHeader |= line.StartsWith("#masscan", StringComparison.Ordinal);
                continue;
            }
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 5 || parts[0] is not ("open" or "closed" or "banner"))
                throw new ScanFileException($"line {number}: expected \"open|closed tcp|udp PORT ADDRESS TIMESTAMP\", found \"{Short(line)}\"");
            var protocol = parts[1] switch
            {
                "tcp" => TransportProtocol.Tcp,
                "udp" => TransportProtocol.Udp,
                _ => throw new ScanFileException($"line {number}: protocol '{Short(parts[1])}' is not tcp or udp"),
            };
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                throw new ScanFileException($"line {number}: '{Short(parts[2])}' is not a port number");
            if (!IPAddress.TryParse(parts[3], out var ip))
                throw new ScanFileException($"line {number}: '{Short(parts[3])}' is not an IP address");
            var address = IpAddressMath.Normalize(ip).ToString();
            if (!hosts.TryGetValue(address, out var host))
                hosts[address] = host = new ParsedHost(address, true, []);
            var existing = host.Ports.FindIndex(x => x.Port == port && x.Protocol == protocol);
            if (parts[0] == "banner")
            {
                var rest = parts.Length > 5 ? parts[5].Split(' ', 2) : [];
                var basePort = existing >= 0 ? host.Ports[existing] : new ParsedPort(port, protocol, PortState.Open, "syn-ack", null, null, null, null, null, [], null);
                var merged = basePort with { Service = Bound(rest.ElementAtOrDefault(0), 100), Banner = Bound(rest.ElementAtOrDefault(1), 2048) };
                if (existing >= 0) host.Ports[existing] = merged; else host.Ports.Add(merged);
                continue;
            }
            var state = parts[0] == "open" ? PortState.Open : PortState.Closed;
            var parsed = new ParsedPort(port, protocol, state, state == PortState.Open ? "syn-ack" : "reset", null, null, null, null, null, [], null);
            if (existing >= 0) host.Ports[existing] = parsed with { Service = host.Ports[existing].Service, Banner = host.Ports[existing].Banner };
            else host.Ports.Add(parsed);
        }
        if (!sawHeader && hosts.Count == 0)
            throw new ScanFileException("not masscan list output: no \"#masscan\" header and no result lines");
        return new ParsedScan("masscan", hosts.Values.ToList(), null, null, null, null);
    }

    private static PortState StateOf(string? state, int where) => state switch
    {
        "open" => PortState.Open,
        "closed" => PortState.Closed,
        "filtered" => PortState.Filtered,
        "open|filtered" => PortState.OpenFiltered,
        "unfiltered" or "closed|filtered" => PortState.Filtered,
        _ => throw new ScanFileException($"near {where}: port state '{Short(state)}' is not one nmap or masscan writes"),
    };

    private static string? Validate(string? spec, PortProtocol protocol)
    {
        if (string.IsNullOrWhiteSpace(spec))
            return null;
        try
        {
            PortSet.Parse(spec, protocol);
            return spec;
        }
        catch (TargetSpecException ex)
        {
            throw new ScanFileException($"scaninfo services '{Short(spec)}': {ex.Message}");
        }
    }

    private static DateTime? Unix(string? seconds) =>
        long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s < 253402300799 ? DateTimeOffset.FromUnixTimeSeconds(s).UtcDateTime : null;

    private static int Line(XmlReader reader) => reader is IXmlLineInfo info ? info.LineNumber : 0;

    private static string? Bound(string? text, int max) => text is null ? null : text.Length > max ? text[..max] : text;

    private static string Short(string? text) => text is null ? "" : text.Length > 60 ? text[..60] + "…" : text;
}
