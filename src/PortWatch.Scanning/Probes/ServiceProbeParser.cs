using System.Globalization;
using System.Text;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

/// <summary>
/// Reads the nmap-service-probes format: Probe, match, softmatch, ports, sslports, totalwaitms,
/// tcpwrappedms, rarity, fallback and Exclude lines. A line that cannot be used (a pattern .NET
/// cannot express, a malformed directive) is reported once with its line number and skipped;
/// parsing never fails on content.
/// </summary>
public static class ServiceProbeParser
{
    public static ServiceProbeDatabase Parse(TextReader reader, string source)
    {
        var database = new ServiceProbeDatabase { Source = source };
        ServiceProbe? probe = null;
        var number = 0;
        while (reader.ReadLine() is { } raw)
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.TrimStart().StartsWith('#'))
                continue;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var directive = space < 0 ? line : line[..space];
            var rest = space < 0 ? "" : line[(space + 1)..].Trim();
            try
            {
                switch (directive)
                {
                    case "Probe":
                        probe = ParseProbe(rest, number);
                        database.Probes.Add(probe);
                        break;
                    case "Exclude":
                        // As nmap's -p: ports before any T:/U: qualifier are excluded on both protocols.
                        database.Excluded = new PortSet(PortSet.Parse(rest, PortProtocol.Tcp).Tcp, PortSet.Parse(rest, PortProtocol.Udp).Udp);
                        break;
                    case "match" or "softmatch":
                        RequireProbe(probe, directive).Matches.Add(ParseMatch(rest, directive == "softmatch", number));
                        break;
                    case "ports":
                        AddPorts(RequireProbe(probe, directive).Ports, rest);
                        break;
                    case "sslports":
                        AddPorts(RequireProbe(probe, directive).SslPorts, rest);
                        break;
                    case "totalwaitms":
                        RequireProbe(probe, directive).TotalWaitMs = ParseNumber(rest, 1, 300_000);
                        break;
                    case "tcpwrappedms":
                        RequireProbe(probe, directive).TcpWrappedMs = ParseNumber(rest, 1, 300_000);
                        break;
                    case "rarity":
                        RequireProbe(probe, directive).Rarity = ParseNumber(rest, 1, 9);
                        break;
                    case "fallback":
                        RequireProbe(probe, directive).Fallbacks.AddRange(rest.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                        break;
                    default:
                        throw new FormatException($"unknown directive '{directive}'");
                }
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or TargetSpecException or OverflowException)
            {
                database.Warnings.Add(new ProbeFileWarning(number, ex.Message));
            }
        }
        return database;
    }

    public static ServiceProbeDatabase ParseFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.Latin1);
        return Parse(reader, path);
    }

    private static ServiceProbe RequireProbe(ServiceProbe? probe, string directive) =>
        probe ?? throw new FormatException($"'{directive}' before any Probe line");

    private static ServiceProbe ParseProbe(string rest, int line)
    {
        // Probe TCP NAME q|payload| [no-payload]
        var parts = rest.Split(' ', 3);
        if (parts.Length < 3)
            throw new FormatException("Probe needs a protocol, a name and q|payload|");
        var protocol = parts[0] switch
        {
            "TCP" => PortProtocol.Tcp,
            "UDP" => PortProtocol.Udp,
            _ => throw new FormatException($"protocol must be TCP or UDP, not '{parts[0]}'"),
        };
        var payloadText = parts[2];
        if (payloadText.Length < 2 || payloadText[0] != 'q')
            throw new FormatException("payload must be q|...|");
        var delimiter = payloadText[1];
        var end = payloadText.IndexOf(delimiter, 2);
        if (end < 0)
            throw new FormatException("unterminated payload");
        var flags = payloadText[(end + 1)..].Trim();
        return new ServiceProbe
        {
            Protocol = protocol,
            Name = parts[1],
            Payload = Unescape(payloadText[2..end]),
            NoPayload = flags.Contains("no-payload", StringComparison.Ordinal),
            Line = line,
        };
    }

    private static ServiceMatch ParseMatch(string rest, bool soft, int line)
    {
        // match SERVICE m|pattern|flags [p/../ v/../ i/../ h/../ o/../ d/../ cpe:/../a ...]
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0 || rest.Length < space + 3 || rest[space + 1] != 'm')
            throw new FormatException("match needs a service and m|pattern|");
        var service = rest[..space];
        var delimiter = rest[space + 2];
        var patternStart = space + 3;
        var patternEnd = rest.IndexOf(delimiter, patternStart);
        if (patternEnd < 0)
            throw new FormatException("unterminated pattern");
        var i = patternEnd + 1;
        var ignoreCase = false;
        var dotAll = false;
        while (i < rest.Length && rest[i] != ' ')
        {
            switch (rest[i])
            {
                case 'i': ignoreCase = true; break;
                case 's': dotAll = true; break;
                default: throw new FormatException($"unknown pattern flag '{rest[i]}'");
            }
            i++;
        }
        var regex = PcreTranslator.Translate(rest[patternStart..patternEnd], ignoreCase, dotAll);
        return new ServiceMatch
        {
            Service = service,
            Pattern = regex,
            IsSoft = soft,
            Version = ParseVersionFields(rest[i..]),
            Line = line,
        };
    }

    private static VersionTemplate ParseVersionFields(string text)
    {
        string? product = null, version = null, info = null, hostname = null, os = null, device = null;
        var cpes = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == ' ')
            {
                i++;
                continue;
            }
            string field;
            if (text.AsSpan(i).StartsWith("cpe:"))
            {
                field = "cpe";
                i += 4;
            }
            else
            {
                field = text[i].ToString();
                i++;
            }
            if (i >= text.Length)
                throw new FormatException($"version field '{field}' has no value");
            var delimiter = text[i];
            var end = text.IndexOf(delimiter, i + 1);
            if (end < 0)
                throw new FormatException($"unterminated version field '{field}'");
            var value = text[(i + 1)..end];
            i = end + 1;
            switch (field)
            {
                case "p": product = value; break;
                case "v": version = value; break;
                case "i": info = value; break;
                case "h": hostname = value; break;
                case "o": os = value; break;
                case "d": device = value; break;
                case "cpe":
                    cpes.Add("cpe:/" + value);
                    while (i < text.Length && text[i] != ' ')
                        i++; // the optional 'a' flag after a CPE
                    break;
                default: throw new FormatException($"unknown version field '{field}'");
            }
        }
        return new VersionTemplate(product, version, info, hostname, os, device, cpes);
    }

    private static void AddPorts(HashSet<ushort> target, string spec)
    {
        foreach (var port in PortSet.Parse(spec).Tcp)
            target.Add(port);
    }

    private static int ParseNumber(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new FormatException($"'{text}' is not a number from {min} to {max}");

    /// <summary>The q|...| escapes: \\ \0 \a \b \f \n \r \t \v \xHH; anything else after a backslash is itself.</summary>
    public static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\' || i + 1 >= text.Length)
            {
                bytes.Add((byte)c);
                continue;
            }
            var next = text[++i];
            switch (next)
            {
                case '0': bytes.Add(0); break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'n': bytes.Add(10); break;
                case 'r': bytes.Add(13); break;
                case 't': bytes.Add(9); break;
                case 'v': bytes.Add(11); break;
                case 'x':
                    if (i + 2 >= text.Length || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                        throw new FormatException(@"bad \x escape in payload");
                    bytes.Add(b);
                    i += 2;
                    break;
                default: bytes.Add((byte)next); break;
            }
        }
        return [.. bytes];
    }
}
