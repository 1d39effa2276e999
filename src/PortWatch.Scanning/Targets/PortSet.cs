using System.Globalization;

namespace PortWatch.Scanning.Targets;

/// <summary>
/// Sorted, distinct TCP and UDP port lists from an nmap-style specification:
/// "22,80,443", "1-1024", "-" (1-65535), "-1024", "60000-", "T:22,80,U:53,161", "top100", "top1000".
/// </summary>
/// <remarks>
/// A specification reaches the parser from profiles, run requests and imported files, so it is
/// hostile input: it is parsed into ranges that are sorted and merged once (linear in its length
/// plus a sort), never port by port, and a specification longer than <see cref="MaxLength"/> is
/// refused before it is read. "1-65535," twenty thousand times costs microseconds, not minutes.
/// </remarks>
public sealed class PortSet
{
    /// <summary>Longest specification accepted: every port listed one by one, comma-separated, fits.</summary>
    public const int MaxLength = 400_000;

    /// <summary>How many bad tokens one error names before it says "and N more".</summary>
    private const int MaxReportedErrors = 10;

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
    /// <exception cref="TargetSpecException">naming every bad token (up to ten).</exception>
    public static PortSet Parse(string spec, PortProtocol defaultProtocol = PortProtocol.Tcp)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.IsNullOrWhiteSpace(spec))
            throw new TargetSpecException(spec, "empty port specification");
        if (spec.Length > MaxLength)
            throw new TargetSpecException($"the port specification is {spec.Length:N0} characters long; at most {MaxLength:N0} are accepted");
        var tcp = new RangeCollector();
        var udp = new RangeCollector();
        var errors = new List<string>();
        var errorCount = 0;
        var current = defaultProtocol;
        var rest = spec.AsSpan();
        while (true)
        {
            var comma = rest.IndexOf(',');
            var raw = (comma < 0 ? rest : rest[..comma]).Trim();
            var token = raw;
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
            var error = raw.Length == 0
                ? "empty entry in port list (two commas in a row?)"
                : ParseToken(token, current == PortProtocol.Tcp ? tcp : udp, current);
            if (error is not null && errorCount++ < MaxReportedErrors)
                errors.Add(raw.Length == 0 ? error : $"'{Shorten(raw)}': {error}");
            if (comma < 0)
                break;
            rest = rest[(comma + 1)..];
        }
        if (errors.Count == 1)
            throw new TargetSpecException(errors[0]);
        if (errors.Count > 1)
            throw new TargetSpecException(string.Join("; ", errors) + (errorCount > errors.Count ? $"; and {errorCount - errors.Count} more" : ""));
        return new PortSet(tcp.ToPorts(), udp.ToPorts());
    }

    /// <returns>Null when the token was added, else why it is bad.</returns>
    private static string? ParseToken(ReadOnlySpan<char> token, RangeCollector target, PortProtocol protocol)
    {
        if (token.Equals("top100", StringComparison.OrdinalIgnoreCase))
        {
            target.AddTop(protocol, 100);
            return null;
        }
        if (token.Equals("top1000", StringComparison.OrdinalIgnoreCase))
        {
            target.AddTop(protocol, 1000);
            return null;
        }
        var dash = token.IndexOf('-');
        if (dash < 0)
        {
            if (ParsePort(token, out var single) is { } singleError)
                return singleError;
            target.Add(single, single);
            return null;
        }
        var first = 1;
        var last = 65535;
        if (dash > 0 && ParsePort(token[..dash], out first) is { } firstError)
            return firstError;
        if (dash < token.Length - 1 && ParsePort(token[(dash + 1)..], out last) is { } lastError)
            return lastError;
        if (last < first)
            return "range end is before range start";
        target.Add(first, last);
        return null;
    }

    private static string? ParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
                return "not a port number";
        }
        if (text.Length == 0)
            return "not a port number";
        if (text.Length > 5 || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            return "port must be 0 to 65535";
        return null;
    }

    private static string Shorten(ReadOnlySpan<char> token) => token.Length > 40 ? string.Concat(token[..40], "…") : token.ToString();

    /// <summary>Ranges as given, merged once at the end; top lists are flags, added once however often they are named.</summary>
    private sealed class RangeCollector
    {
        private readonly List<(int First, int Last)> ranges = [];
        private int topCount;
        private PortProtocol topProtocol;

        public void Add(int first, int last) => ranges.Add((first, last));

        public void AddTop(PortProtocol protocol, int count)
        {
            topProtocol = protocol;
            topCount = Math.Max(topCount, count);
        }

        public ushort[] ToPorts()
        {
            if (topCount > 0)
            {
                foreach (var port in TopPorts.Take(topProtocol, topCount))
                    ranges.Add((port, port));
            }
            if (ranges.Count == 0)
                return [];
            ranges.Sort();
            var ports = new List<ushort>();
            var (first, last) = ranges[0];
            foreach (var (nextFirst, nextLast) in ranges.Skip(1))
            {
                if (nextFirst <= last + 1)
                {
                    last = Math.Max(last, nextLast);
                    continue;
                }
                AddRange(ports, first, last);
                (first, last) = (nextFirst, nextLast);
            }
            AddRange(ports, first, last);
            return ports.ToArray();
        }

        private static void AddRange(List<ushort> ports, int first, int last)
        {
            for (var p = first; p <= last; p++)
                ports.Add((ushort)p);
        }
    }

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
