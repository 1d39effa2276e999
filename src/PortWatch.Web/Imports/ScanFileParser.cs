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

/// <summary>What service detection or a banner said about a port.</summary>
public sealed record ParsedService(string? Name, string? Product, string? Version, string? ExtraInfo, IReadOnlyList<string> Cpes, string? Banner)
{
    /// <summary>These facts, completed by the earlier record's where these have none.</summary>
    public ParsedService Over(ParsedService? earlier) => earlier is null ? this : new(
        Name ?? earlier.Name, Product ?? earlier.Product, Version ?? earlier.Version, ExtraInfo ?? earlier.ExtraInfo,
        Cpes.Count > 0 ? Cpes : earlier.Cpes, Banner ?? earlier.Banner);
}

/// <summary>
/// One port of a host in the file. A value, with the service facts (which most ports of a large
/// masscan file lack) in a separate object: a 700,000-port file is held in memory while checked.
/// </summary>
public readonly record struct ParsedPort(int Port, TransportProtocol Protocol, PortState State, string Reason, int? Ttl, ParsedService? Facts = null)
{
    public string? Service => Facts?.Name;

    public string? Product => Facts?.Product;

    public string? Version => Facts?.Version;

    public string? ExtraInfo => Facts?.ExtraInfo;

    public IReadOnlyList<string> Cpes => Facts?.Cpes ?? [];

    public string? Banner => Facts?.Banner;
}

/// <summary>
/// A host in the file; <see cref="Up"/> false when the scanner saw no sign of life (its ports are
/// unknown, not closed). A file may name a host or a port more than once (nmap's output of a
/// resumed scan, masscan's banner records, concatenated files): they are merged, later records
/// completing earlier ones, never stored twice.
/// </summary>
public sealed class ParsedHost(string address, bool up)
{
    /// <summary>Hosts with fewer ports are searched in order: an index for each of a large file's hosts cost more memory than its ports.</summary>
    private const int IndexFrom = 16;

    private Dictionary<(int Port, TransportProtocol Protocol), int>? index;

    public string Address { get; } = address;

    /// <summary>The address's database key (<see cref="Data.IpKey"/>), made once for all of the host's rows.</summary>
    public string Key => key ??= Data.IpKey.From(IPAddress.Parse(Address));

    private string? key;

    public bool Up { get; private set; } = up;

    public List<ParsedPort> Ports { get; } = new(1);

    public ParsedPort? Find(int port, TransportProtocol protocol) => IndexOf(port, protocol) is var i and >= 0 ? Ports[i] : null;

    private int IndexOf(int port, TransportProtocol protocol)
    {
        if (index is not null)
            return index.TryGetValue((port, protocol), out var i) ? i : -1;
        for (var i = 0; i < Ports.Count; i++)
        {
            if (Ports[i].Port == port && Ports[i].Protocol == protocol)
                return i;
        }
        return -1;
    }

    /// <summary>Adds the port, or merges it into the earlier record of the same port: its state wins, service facts are kept where it has none.</summary>
    public void Set(ParsedPort port)
    {
        var i = IndexOf(port.Port, port.Protocol);
        if (i < 0)
        {
            index?.Add((port.Port, port.Protocol), Ports.Count);
            Ports.Add(port);
            if (index is null && Ports.Count == IndexFrom)
            {
                index = new Dictionary<(int, TransportProtocol), int>(IndexFrom * 2);
                for (var j = 0; j < Ports.Count; j++)
                    index[(Ports[j].Port, Ports[j].Protocol)] = j;
            }
            return;
        }
        var earlier = Ports[i];
        Ports[i] = port with { Facts = port.Facts?.Over(earlier.Facts) ?? earlier.Facts };
    }

    /// <summary>The same host again in the file: it was up if any record saw it up, and has every record's ports.</summary>
    public void Merge(ParsedHost other)
    {
        Up |= other.Up;
        foreach (var port in other.Ports)
            Set(port);
    }
}

public sealed record ParsedScan(string Scanner, List<ParsedHost> Hosts, string? TcpPorts, string? UdpPorts, DateTime? StartedAt, DateTime? FinishedAt);

/// <summary>A file that cannot be imported, with what is wrong and where.</summary>
public class ScanFileException(string message) : Exception(message);

/// <summary>A file over Imports:MaxFileMegabytes (answered 413, with the limit).</summary>
public sealed class ScanFileTooLargeException(string message) : ScanFileException(message);

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
        var hosts = new Dictionary<string, ParsedHost>();
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
                        var host = ReadHost(reader.ReadSubtree(), Line(reader));
                        if (hosts.TryGetValue(host.Address, out var seen))
                            seen.Merge(host);
                        else
                            hosts[host.Address] = host;
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
        return new ParsedScan("nmap", hosts.Values.ToList(), Validate(tcp, PortProtocol.Tcp), Validate(udp, PortProtocol.Udp), started, finished);
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
        var parsed = new ParsedHost(IpAddressMath.Normalize(ip).ToString(), up);
        foreach (var port in ports)
            parsed.Set(port);
        return parsed;
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
        var facts = name is null && product is null && version is null && extra is null && cpes.Count == 0
            ? null : new ParsedService(name, product, version, extra, cpes, null);
        return new ParsedPort(number, protocol, state ?? throw new ScanFileException($"port {number} near line {line} has no <state>"), reason, ttl, facts);
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
                    throw new ScanFileException($"result {index} has no valid \"ip\" (a string with an IPv4 or IPv6 address)");
                if (!entry.TryGetProperty("ports", out var ports) || ports.ValueKind != JsonValueKind.Array)
                    throw new ScanFileException($"result {index} ({ip}) has no \"ports\" array");
                var address = IpAddressMath.Normalize(ip).ToString();
                if (!hosts.TryGetValue(address, out var host))
                    hosts[address] = host = new ParsedHost(address, true);
                foreach (var p in ports.EnumerateArray())
                {
                    var where = $"result {index} ({ip})";
                    if (p.ValueKind != JsonValueKind.Object)
                        throw new ScanFileException($"{where}: each entry of \"ports\" must be an object like {{\"port\": 80, \"proto\": \"tcp\", \"status\": \"open\"}}, not {Kind(p)}");
                    if (!p.TryGetProperty("port", out var portElement) || portElement.ValueKind != JsonValueKind.Number || !portElement.TryGetInt32(out var number) || number is < 0 or > 65535)
                        throw new ScanFileException($"{where} has a port that is not a number from 0 to 65535");
                    where = $"{where} port {number}";
                    var protocol = (Text(p, "proto", where) ?? "tcp") switch
                    {
                        "tcp" => TransportProtocol.Tcp,
                        "udp" => TransportProtocol.Udp,
                        var other => throw new ScanFileException($"{where}: protocol '{Short(other)}' is not tcp or udp"),
                    };
                    var status = Text(p, "status", where);
                    JsonElement? service = null;
                    if (p.TryGetProperty("service", out var sv))
                    {
                        if (sv.ValueKind != JsonValueKind.Object)
                            throw new ScanFileException($"{where}: \"service\" must be an object, not {Kind(sv)}");
                        service = sv;
                    }
                    if (status is null && service is null)
                        throw new ScanFileException($"{where} has neither \"status\" nor \"service\"");
                    if (service is { } s)
                    {
                        // A banner record for a port reported open in another record.
                        var basePort = host.Find(number, protocol) ?? new ParsedPort(number, protocol, PortState.Open, "syn-ack", null);
                        host.Set(basePort with { Facts = new ParsedService(Bound(Text(s, "name", where), 100), null, null, null, [], Bound(Text(s, "banner", where), 2048)) });
                        continue;
                    }
                    var state = StateOf(status, index);
                    var reason = Bound(Text(p, "reason", where), 50) ?? "unknown";
                    int? ttl = p.TryGetProperty("ttl", out var ttlElement) && ttlElement.ValueKind == JsonValueKind.Number && ttlElement.TryGetInt32(out var t) && t is >= 0 and <= 255 ? t : null;
                    host.Set(new ParsedPort(number, protocol, state, reason, ttl));
                }
            }
            return new ParsedScan("masscan", hosts.Values.ToList(), null, null, null, null);
        }
    }

    public static ParsedScan ParseMasscanList(byte[] content)
    {
        // Line by line from the bytes: a 25 MB list is ~700,000 lines, which would otherwise be copied twice more (text, then lines).
        using var reader = new StreamReader(new MemoryStream(content, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var hosts = new Dictionary<string, ParsedHost>();
        var number = 0;
        var sawHeader = false;
        Span<Range> parts = stackalloc Range[6];
        while (reader.ReadLine() is { } raw)
        {
            number++;
            var line = raw.AsSpan().Trim();
            if (line.Length == 0)
                continue;
            if (line[0] == '#')
            {
                sawHeader |= line.StartsWith("#masscan", StringComparison.Ordinal);
                continue;
            }
            var count = line.SplitAny(parts, " \t", StringSplitOptions.RemoveEmptyEntries);
            var kind = count > 0 ? line[parts[0]] : default;
            if (count < 5 || !(kind is "open" || kind is "closed" || kind is "banner"))
                throw new ScanFileException($"line {number}: expected \"open|closed tcp|udp PORT ADDRESS TIMESTAMP\", found \"{Short(line.ToString())}\"");
            var protocol = line[parts[1]] switch
            {
                "tcp" => TransportProtocol.Tcp,
                "udp" => TransportProtocol.Udp,
                var other => throw new ScanFileException($"line {number}: protocol '{Short(other.ToString())}' is not tcp or udp"),
            };
            if (!int.TryParse(line[parts[2]], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                throw new ScanFileException($"line {number}: '{Short(line[parts[2]].ToString())}' is not a port number");
            if (!IPAddress.TryParse(line[parts[3]], out var ip))
                throw new ScanFileException($"line {number}: '{Short(line[parts[3]].ToString())}' is not an IP address");
            var address = IpAddressMath.Normalize(ip).ToString();
            if (!hosts.TryGetValue(address, out var host))
                hosts[address] = host = new ParsedHost(address, true);
            if (kind is "banner")
            {
                // banner tcp PORT ADDRESS TIMESTAMP SERVICE TEXT...: the rest of the line after the timestamp.
                var rest = count > 5 ? line[parts[5].Start..].ToString().Split(' ', 2) : [];
                var basePort = host.Find(port, protocol) ?? new ParsedPort(port, protocol, PortState.Open, "syn-ack", null);
                host.Set(basePort with { Facts = new ParsedService(Bound(rest.ElementAtOrDefault(0), 100), null, null, null, [], Bound(rest.ElementAtOrDefault(1), 2048)) });
                continue;
            }
            var state = kind is "open" ? PortState.Open : PortState.Closed;
            host.Set(new ParsedPort(port, protocol, state, state == PortState.Open ? "syn-ack" : "reset", null));
        }
        if (!sawHeader && hosts.Count == 0)
            throw new ScanFileException("not masscan list output: no \"#masscan\" header and no result lines");
        return new ParsedScan("masscan", hosts.Values.ToList(), null, null, null, null);
    }

    /// <summary>A string field of a JSON object; null when absent or null; a number or an object where text belongs is an error, not a crash.</summary>
    private static string? Text(JsonElement element, string name, string where)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString()
            : throw new ScanFileException($"{where}: \"{name}\" must be a string, not {Kind(value)}");
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => $"the number {Short(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => $"the value {value.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };

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
