using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Xml;
using PortWatch.Scanning;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;

namespace PortWatch.Cli.Scan;

/// <summary>Collects verdicts and writes them as text (nmap-like), JSON lines, CSV or nmap -oX XML.</summary>
public sealed class ScanReport(TargetSet targets, PortSet ports, string engine, string commandLine)
{
    private readonly Dictionary<(string Ip, int Port, string Proto), ResultLine> results = [];
    private readonly DateTime started = DateTime.UtcNow;
    private readonly Dictionary<(string Ip, int Port, string Proto), ServiceReport> services = [];

    /// <summary>Keeps what detection found; a UDP port that answered a probe is open, one that sent back a port
    /// unreachable is closed, whatever the port scan's silence left it as.</summary>
    public void AddService(ServiceReport service)
    {
        var proto = service.Protocol == PortProtocol.Udp ? "udp" : "tcp";
        var key = (service.Endpoint.Address.ToString(), service.Endpoint.Port, proto);
        services[key] = service;
        if (proto == "udp" && results.TryGetValue(key, out var line) && line.State != "open" && (service.Answered || service.Refused))
            results[key] = line with { State = service.Answered ? "open" : "closed", Reason = service.Answered ? "udp-response" : "port-unreach" };
    }

    public IEnumerable<IPEndPoint> OpenTcpEndpoints() =>
        results.Values.Where(r => r.Proto == "tcp" && r.State == "open").Select(r => new IPEndPoint(IPAddress.Parse(r.Ip), r.Port));

    /// <summary>UDP ports that answered, and those that stayed silent: a service answers only its own protocol, so the
    /// probes may find one the port scan's payload did not.</summary>
    public IEnumerable<IPEndPoint> OpenOrSilentUdpEndpoints() =>
        results.Values.Where(r => r.Proto == "udp" && r.State is "open" or "open|filtered").Select(r => new IPEndPoint(IPAddress.Parse(r.Ip), r.Port));

    private ServiceReport? ServiceOf(ResultLine line) => services.GetValueOrDefault((line.Ip, line.Port, line.Proto));

    public static string StateName(PortStatus status) => status switch
    {
        PortStatus.Open => "open",
        PortStatus.Closed => "closed",
        PortStatus.Filtered => "filtered",
        _ => "open|filtered",
    };

    public static ResultLine ToLine(PortResult r) =>
        new(r.Address.ToString(), r.Port, r.Protocol == PortProtocol.Tcp ? "tcp" : "udp", StateName(r.Status), r.Reason, r.Ttl);

    /// <summary>Adds a verdict; the later of two verdicts for the same port wins.</summary>
    public void Add(ResultLine line) => results[(line.Ip, line.Port, line.Proto)] = line;

    public IEnumerable<ResultLine> NonClosed => results.Values.Where(r => r.State != "closed");

    public ulong TotalProbes => targets.Count * (ulong)(ports.Tcp.Count + ports.Udp.Count);

    /// <summary>Filtered ports the engine counted without listing them (only open ports were asked for).</summary>
    public ulong CountedFiltered { get; set; }

    /// <summary>Counts per state; ports never reported explicitly (closed, not kept) are the rest.</summary>
    public Dictionary<string, ulong> Counts()
    {
        var counts = results.Values.GroupBy(r => r.State).ToDictionary(g => g.Key, g => (ulong)g.LongCount());
        if (CountedFiltered > 0)
            counts["filtered"] = counts.GetValueOrDefault("filtered") + CountedFiltered;
        var explicitTotal = counts.Values.Aggregate(0UL, (a, b) => a + b);
        counts["closed"] = counts.GetValueOrDefault("closed") + (TotalProbes > explicitTotal ? TotalProbes - explicitTotal : 0);
        return counts;
    }

    public static string JsonLine(ResultLine line) => JsonSerializer.Serialize(line);

    private string JsonLineWithService(ResultLine line)
    {
        if (ServiceOf(line) is not { } service)
            return JsonLine(line);
        var json = System.Text.Json.Nodes.JsonNode.Parse(JsonLine(line))!.AsObject();
        Probe.ServiceOutput.AddTo(json, service);
        return json.ToJsonString();
    }

    public string Summary(TimeSpan elapsed)
    {
        var c = Counts();
        var rate = elapsed.TotalSeconds > 0 ? TotalProbes / elapsed.TotalSeconds : 0;
        var openFiltered = c.GetValueOrDefault("open|filtered");
        var udpPart = openFiltered > 0 ? $", {openFiltered} open|filtered" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{targets.Count} host(s), {TotalProbes} probes in {elapsed.TotalSeconds:F1} s ({rate:F0}/s, engine {engine}): {c.GetValueOrDefault("open")} open, {c.GetValueOrDefault("closed")} closed, {c.GetValueOrDefault("filtered")} filtered{udpPart}");
    }

    public void WriteText(TextWriter output, bool allStates, TimeSpan elapsed)
    {
        foreach (var host in ByHost())
        {
            var shown = host.Value.Where(r => allStates || r.State is "open" or "open|filtered").OrderBy(r => r.Proto).ThenBy(r => r.Port).ToList();
            var hostCounts = HostCounts(host.Value);
            output.WriteLine($"Scan report for {host.Key}");
            if (shown.Count > 0)
            {
                var withServices = services.Count > 0;
                output.WriteLine(withServices ? "PORT        STATE          SERVICE          VERSION" : "PORT        STATE          REASON");
                foreach (var r in shown)
                {
                    if (withServices)
                    {
                        var service = ServiceOf(r);
                        output.WriteLine($"{$"{r.Port}/{r.Proto}",-11} {r.State,-14} {(service is null ? "" : Probe.ServiceOutput.Describe(service))}");
                        foreach (var detail in service is null ? [] : Probe.ServiceOutput.Details(service))
                            output.WriteLine(detail);
                    }
                    else
                    {
                        output.WriteLine($"{$"{r.Port}/{r.Proto}",-11} {r.State,-14} {r.Reason}{(r.Ttl is { } t ? $" ttl {t}" : "")}");
                    }
                }
            }
            var hidden = hostCounts.Where(kv => !allStates && kv.Key is not ("open" or "open|filtered") && kv.Value > 0)
                .Select(kv => $"{kv.Value} {kv.Key}").ToList();
            if (hidden.Count > 0)
                output.WriteLine($"Not shown: {string.Join(", ", hidden)}");
            output.WriteLine();
        }
        output.WriteLine(Summary(elapsed));
    }

    public void WriteCsv(TextWriter output, bool allStates)
    {
        output.WriteLine("ip,port,proto,state,reason,ttl,service,product,version");
        foreach (var r in Explicit(allStates))
        {
            var s = ServiceOf(r);
            output.WriteLine($"{r.Ip},{r.Port},{r.Proto},{r.State},{r.Reason},{r.Ttl},{Csv(s?.DisplayName)},{Csv(s?.Service?.Product)},{Csv(s?.Service?.Version)}");
        }
    }

    public void WriteJson(TextWriter output, bool allStates)
    {
        foreach (var r in Explicit(allStates))
            output.WriteLine(JsonLineWithService(r));
    }

    /// <summary>Quoted when needed, and a leading = + - @ neutralised: spreadsheets would run scanned text as a formula.</summary>
    public static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }

    /// <summary>nmap -oX: ports not listed are given per host as extraports with their port lists, as nmap does with -v.</summary>
    public void WriteXml(TextWriter output, bool allStates, TimeSpan elapsed)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new System.Text.UTF8Encoding(false) };
        using var xml = XmlWriter.Create(output, settings);
        var start = new DateTimeOffset(started).ToUnixTimeSeconds();
        var end = start + (long)elapsed.TotalSeconds;
        xml.WriteStartDocument();
        xml.WriteStartElement("nmaprun");
        xml.WriteAttributeString("scanner", "portwatch");
        xml.WriteAttributeString("args", commandLine);
        xml.WriteAttributeString("start", start.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("startstr", started.ToString("ddd MMM d HH:mm:ss yyyy", CultureInfo.InvariantCulture));
        xml.WriteAttributeString("version", "1.0");
        xml.WriteAttributeString("xmloutputversion", "1.05");
        xml.WriteStartElement("scaninfo");
        xml.WriteAttributeString("type", engine == "syn" ? "syn" : "connect");
        xml.WriteAttributeString("protocol", "tcp");
        xml.WriteAttributeString("numservices", ports.Tcp.Count.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("services", PortSet.Compact(ports.Tcp));
        xml.WriteEndElement();
        if (ports.Udp.Count > 0)
        {
            xml.WriteStartElement("scaninfo");
            xml.WriteAttributeString("type", "udp");
            xml.WriteAttributeString("protocol", "udp");
            xml.WriteAttributeString("numservices", ports.Udp.Count.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("services", PortSet.Compact(ports.Udp));
            xml.WriteEndElement();
        }
        var byHost = ByHost();
        for (ulong i = 0; i < targets.Count; i++)
        {
            var address = targets.AddressAt(i).ToString();
            var lines = byHost.GetValueOrDefault(address) ?? [];
            var explicitTcp = lines.Where(l => l.Proto == "tcp").Select(l => l.Port).ToHashSet();
            var closed = ports.Tcp.Where(p => !explicitTcp.Contains(p)).ToList();
            var up = lines.Any(l => !PortResult.IsSilent(l.Reason)) || closed.Count > 0;
            xml.WriteStartElement("host");
            xml.WriteAttributeString("starttime", start.ToString(CultureInfo.InvariantCulture));
            xml.WriteAttributeString("endtime", end.ToString(CultureInfo.InvariantCulture));
            xml.WriteStartElement("status");
            xml.WriteAttributeString("state", up ? "up" : "down");
            xml.WriteAttributeString("reason", up ? "user-set" : "no-response");
            xml.WriteEndElement();
            xml.WriteStartElement("address");
            xml.WriteAttributeString("addr", address);
            xml.WriteAttributeString("addrtype", IPAddress.Parse(address).AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");
            xml.WriteEndElement();
            xml.WriteStartElement("ports");
            // UDP verdicts are always listed one by one; TCP ones not shown are summarised as extraports.
            var listed = lines.Where(l => allStates || l.Proto == "udp" || l.State is "open" or "open|filtered")
                .OrderBy(l => l.Proto).ThenBy(l => l.Port).ToList();
            var extra = lines.Except(listed).GroupBy(l => l.State).ToDictionary(g => g.Key, g => g.Select(l => (ushort)l.Port).OrderBy(p => p).ToList());
            if (!allStates && closed.Count > 0)
                extra["closed"] = [.. extra.GetValueOrDefault("closed") ?? [], .. closed];
            foreach (var (state, statePorts) in extra)
            {
                statePorts.Sort();
                xml.WriteStartElement("extraports");
                xml.WriteAttributeString("state", state);
                xml.WriteAttributeString("count", statePorts.Count.ToString(CultureInfo.InvariantCulture));
                xml.WriteStartElement("extrareasons");
                xml.WriteAttributeString("reason", state == "closed" ? "resets" : "no-responses");
                xml.WriteAttributeString("count", statePorts.Count.ToString(CultureInfo.InvariantCulture));
                xml.WriteAttributeString("proto", "tcp");
                xml.WriteAttributeString("ports", PortSet.Compact(statePorts));
                xml.WriteEndElement();
                xml.WriteEndElement();
            }
            foreach (var l in listed)
            {
                xml.WriteStartElement("port");
                xml.WriteAttributeString("protocol", l.Proto);
                xml.WriteAttributeString("portid", l.Port.ToString(CultureInfo.InvariantCulture));
                xml.WriteStartElement("state");
                xml.WriteAttributeString("state", l.State);
                // nmap's word for a silence, whatever the tries: tools reading the XML know nmap's reasons.
                xml.WriteAttributeString("reason", PortResult.IsSilent(l.Reason) ? PortResult.NoResponse : l.Reason);
                xml.WriteAttributeString("reason_ttl", (l.Ttl ?? 0).ToString(CultureInfo.InvariantCulture));
                xml.WriteEndElement();
                if (ServiceOf(l) is { } service)
                    Probe.ServiceOutput.WriteXml(xml, service);
                xml.WriteEndElement();
            }
            if (allStates)
            {
                foreach (var port in closed)
                {
                    xml.WriteStartElement("port");
                    xml.WriteAttributeString("protocol", "tcp");
                    xml.WriteAttributeString("portid", port.ToString(CultureInfo.InvariantCulture));
                    xml.WriteStartElement("state");
                    xml.WriteAttributeString("state", "closed");
                    xml.WriteAttributeString("reason", "reset");
                    xml.WriteAttributeString("reason_ttl", "0");
                    xml.WriteEndElement();
                    xml.WriteEndElement();
                }
            }
            xml.WriteEndElement(); // ports
            xml.WriteEndElement(); // host
        }
        xml.WriteStartElement("runstats");
        xml.WriteStartElement("finished");
        xml.WriteAttributeString("time", end.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("elapsed", elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture));
        xml.WriteAttributeString("summary", Summary(elapsed));
        xml.WriteAttributeString("exit", "success");
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private IEnumerable<ResultLine> Explicit(bool allStates) =>
        results.Values.Where(r => allStates || r.State is "open" or "open|filtered")
            .OrderBy(r => IpAddressMath.ToUnifiedValue(IPAddress.Parse(r.Ip))).ThenBy(r => r.Port);

    private SortedDictionary<string, List<ResultLine>> ByHost()
    {
        var byHost = new SortedDictionary<string, List<ResultLine>>(Comparer<string>.Create((a, b) =>
            IpAddressMath.ToUnifiedValue(IPAddress.Parse(a)).CompareTo(IpAddressMath.ToUnifiedValue(IPAddress.Parse(b)))));
        foreach (var r in results.Values)
        {
            if (!byHost.TryGetValue(r.Ip, out var list))
                byHost[r.Ip] = list = [];
            list.Add(r);
        }
        return byHost;
    }

    private Dictionary<string, ulong> HostCounts(List<ResultLine> lines)
    {
        var counts = lines.GroupBy(l => l.State).ToDictionary(g => g.Key, g => (ulong)g.LongCount());
        var explicitCount = (ulong)lines.Count;
        counts["closed"] = counts.GetValueOrDefault("closed") + ((ulong)ports.Tcp.Count - Math.Min(explicitCount, (ulong)ports.Tcp.Count));
        return counts;
    }
}
