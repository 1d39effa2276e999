using System.Globalization;

namespace PortWatch.Scanning.Targets;

/// <summary>
/// Sorted, distinct TCP and UDP port lists from an nmap-style specification:
/// "22,80,443", "1-1024", "-" (1-65535), "-1024", "60000-", "T:22,80,U:53,161", "top100", "top1000".
/// </summary>
public sealed class PortSet
{
    public static readonly PortSet Empty = new([], []);

    public PortSet(IReadOnlyList<ushort> tcp, IReadOnlyList<ushort> udp)
    {
        Tcp = tcp;
        Udp = udp;
    }

    public IReadOnlyList<ushort> Tcp { get; }

    public IReadOnlyList<ushort> Udp { get; }

    public static PortSet AllTcp { get; } = new(Enumerable.Range(1, 65535).Select(p => (ushort)p).ToArray(), []);

    /// <summary>Parses a specification; ports without a T:/U: prefix go to <paramref name="defaultProtocol"/>.</summary>
    /// <exception cref="TargetSpecException">naming the bad token.</exception>
    public static PortSet Parse(string spec, PortProtocol defaultProtocol = PortProtocol.Tcp)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec))
            throw new TargetSpecException(spec, "empty port specification");
        var tcp = new SortedSet<ushort>();
        var udp = new SortedSet<ushort>();
        var current = defaultProtocol;
        foreach (var raw in spec.Split(',', StringSplitOptions.TrimEntries))
        {
            var token = raw;
            if (token.Length == 0)
                throw new TargetSpecException(spec, "empty entry in port list (two commas in a row?)");
            if (token.StartsWith("T:", StringComparison.OrdinalIgnoreCase))
            {
                current = PortProtocol.Tcp;
                token = token[2..];
            }
            else if (token.StartsWith("U:", StringComparison.OrdinalIgnoreCase))
            {
                current = PortProtocol.Udp;
                token = token[2..];
            }
            var target = current == PortProtocol.Tcp ? tcp : udp;
            foreach (var port in ParseToken(token, raw, current))
                target.Add(port);
        }
        return new PortSet(tcp.ToArray(), udp.ToArray());
    }

    private static IEnumerable<ushort> ParseToken(string token, string raw, PortProtocol protocol)
    {
        if (token.Equals("top100", StringComparison.OrdinalIgnoreCase))
            return TopPorts.Take(protocol, 100);
        if (token.Equals("top1000", StringComparison.OrdinalIgnoreCase))
            return TopPorts.Take(protocol, 1000);
        if (token == "-")
            return Range(1, 65535);
        var dash = token.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            var single = ParsePort(token, raw);
            return [single];
        }
        var first = dash == 0 ? 1 : ParsePort(token[..dash], raw);
        var last = dash == token.Length - 1 ? 65535 : ParsePort(token[(dash + 1)..], raw);
        if (last < first)
            throw new TargetSpecException(raw, "range end is before range start");
        return Range(first, last);
    }

    private static ushort ParsePort(string text, string raw)
    {
        if (text.Length == 0 || !text.All(char.IsAsciiDigit))
            throw new TargetSpecException(raw, "not a port number");
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new TargetSpecException(raw, "port must be 0 to 65535");
        return (ushort)port;
    }

    private static IEnumerable<ushort> Range(int first, int last) =>
        Enumerable.Range(first, last - first + 1).Select(p => (ushort)p);

    public override string ToString()
    {
        var parts = new List<string>();
        if (Tcp.Count > 0)
            parts.Add("T:" + Compact(Tcp));
        if (Udp.Count > 0)
            parts.Add("U:" + Compact(Udp));
        return string.Join(',', parts);
    }

    /// <summary>"1-3,7,9-10" for 1,2,3,7,9,10.</summary>
    public static string Compact(IReadOnlyList<ushort> ports)
    {
        var parts = new List<string>();
        for (var i = 0; i < ports.Count;)
        {
            var j = i;
            while (j + 1 < ports.Count && ports[j + 1] == ports[j] + 1)
                j++;
            parts.Add(i == j ? ports[i].ToString(CultureInfo.InvariantCulture) : $"{ports[i]}-{ports[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }
}

public enum PortProtocol
{
    Tcp,
    Udp,
}
