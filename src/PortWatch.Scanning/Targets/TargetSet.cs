using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Targets;

/// <summary>
/// The addresses of a scan: targets minus exclusions, as sorted disjoint ranges (IPv4 before
/// IPv6), addressable by a dense index 0..Count-1 without ever listing the addresses.
/// </summary>
public sealed class TargetSet
{
    /// <summary>Largest target set accepted unless the caller allows more: a /12 of IPv4.</summary>
    public const ulong DefaultMaxAddresses = 1UL << 20;

    private readonly IpRange[] ranges;
    private readonly ulong[] startIndex; // index of each range's first address

    private TargetSet(IpRange[] ranges)
    {
        this.ranges = ranges;
        startIndex = new ulong[ranges.Length];
        ulong total = 0;
        for (var i = 0; i < ranges.Length; i++)
        {
            startIndex[i] = total;
            total += (ulong)ranges[i].Count;
        }
        Count = total;
    }

    public IReadOnlyList<IpRange> Ranges => ranges;

    public ulong Count { get; }

    /// <summary>Builds the set; host names are resolved once, here.</summary>
    /// <exception cref="TargetSpecException">a bad token, a name that does not resolve, or a set over <paramref name="maxAddresses"/>.</exception>
    public static TargetSet Create(IEnumerable<string> targets, IEnumerable<string>? exclusions = null,
        ulong maxAddresses = DefaultMaxAddresses, Func<string, IPAddress[]>? resolve = null)
    {
        resolve ??= Dns.GetHostAddresses;
        var include = new List<IpRange>();
        foreach (var token in Tokens(targets))
            include.AddRange(ParseOrResolve(token, resolve));
        if (include.Count == 0)
            throw new TargetSpecException("", "no targets given");
        var exclude = Tokens(exclusions ?? []).SelectMany(t => ParseOrResolve(t, resolve)).ToList();
        var result = Subtract(Merge(include), Merge(exclude));
        var total = UInt128.Zero;
        foreach (var range in result)
            total += range.Count;
        if (total > maxAddresses)
            throw new TargetSpecException(string.Join(",", Tokens(targets)),
                $"{total} addresses is more than the limit of {maxAddresses}; narrow the targets or raise the limit explicitly");
        if (result.Count == 0)
            throw new TargetSpecException(string.Join(",", Tokens(targets)), "every target is excluded");
        return new TargetSet(result.ToArray());
    }

    public static TargetSet FromRanges(IEnumerable<IpRange> ranges) => new(Merge(ranges.ToList()).ToArray());

    /// <summary>The addresses at dense indices [first, first+count): a shard of a large scan.</summary>
    public TargetSet Slice(ulong first, ulong count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(first, Count);
        var end = Math.Min(Count, first + count);
        var pieces = new List<IpRange>();
        for (var i = 0; i < ranges.Length; i++)
        {
            var rangeStart = startIndex[i];
            var rangeEnd = rangeStart + (ulong)ranges[i].Count; // exclusive
            if (rangeEnd <= first || rangeStart >= end)
                continue;
            var from = Math.Max(first, rangeStart) - rangeStart;
            var to = Math.Min(end, rangeEnd) - rangeStart; // exclusive
            pieces.Add(ranges[i] with { First = ranges[i].First + from, Last = ranges[i].First + to - 1 });
        }
        return new TargetSet(pieces.ToArray());
    }

    /// <summary>Splits on commas and white space, drops comments (# to end of line), as in exclusion files.</summary>
    public static IEnumerable<string> Tokens(IEnumerable<string> specs) =>
        specs.SelectMany(s => s.Split('\n'))
            .Select(line => line.Split('#')[0])
            .SelectMany(line => line.Split([',', ' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public IPAddress AddressAt(ulong index)
    {
        var value = ValueAt(index, out var family);
        return IpAddressMath.FromUInt128(value, family);
    }

    /// <summary>The address at <paramref name="index"/> as an integer: no allocation, for the transmit loop.</summary>
    public UInt128 ValueAt(ulong index, out AddressFamily family)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var i = Array.BinarySearch(startIndex, index);
        if (i < 0)
            i = ~i - 1;
        var range = ranges[i];
        family = range.Family;
        return range.First + (index - startIndex[i]);
    }

    /// <summary>The dense index of an IPv4 address (as a host-order integer), if it is a target.</summary>
    public bool TryIndexOf(AddressFamily family, UInt128 value, out ulong index)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var range = ranges[mid];
            var cmp = Compare(family, value, range);
            if (cmp == 0)
            {
                index = startIndex[mid] + (ulong)(value - range.First);
                return true;
            }
            if (cmp < 0)
                hi = mid - 1;
            else
                lo = mid + 1;
        }
        index = 0;
        return false;
    }

    public bool TryIndexOf(IPAddress address, out ulong index)
    {
        address = IpAddressMath.Normalize(address);
        return TryIndexOf(address.AddressFamily, IpAddressMath.ToUInt128(address), out index);
    }

    private static int Compare(AddressFamily family, UInt128 value, IpRange range)
    {
        if (family != range.Family)
            return family == AddressFamily.InterNetwork ? -1 : 1;
        return value < range.First ? -1 : value > range.Last ? 1 : 0;
    }

    private static IEnumerable<IpRange> ParseOrResolve(string token, Func<string, IPAddress[]> resolve)
    {
        if (!LooksLikeHostName(token))
            return [IpRange.Parse(token)];
        IPAddress[] addresses;
        try
        {
            addresses = resolve(token);
        }
        catch (SocketException ex)
        {
            throw new TargetSpecException(token, $"host name does not resolve ({ex.SocketErrorCode})");
        }
        if (addresses.Length == 0)
            throw new TargetSpecException(token, "host name does not resolve");
        return addresses.Select(IpRange.Single);
    }

    private static bool LooksLikeHostName(string token) =>
        token.Any(char.IsAsciiLetter) && !token.Contains(':', StringComparison.Ordinal) && !token.Contains('/', StringComparison.Ordinal)
        && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    private static int FamilyOrder(IpRange r) => r.Family == AddressFamily.InterNetwork ? 0 : 1;

    private static List<IpRange> Merge(List<IpRange> input)
    {
        var sorted = input.OrderBy(FamilyOrder).ThenBy(r => r.First).ToList();
        var merged = new List<IpRange>();
        foreach (var range in sorted)
        {
            if (merged.Count > 0)
            {
                var last = merged[^1];
                if (last.Family == range.Family && (range.First <= last.Last || range.First == last.Last + 1))
                {
                    merged[^1] = last with { Last = UInt128.Max(last.Last, range.Last) };
                    continue;
                }
            }
            merged.Add(range);
        }
        return merged;
    }

    private static List<IpRange> Subtract(List<IpRange> include, List<IpRange> exclude)
    {
        var result = new List<IpRange>();
        foreach (var range in include)
        {
            var pieces = new List<IpRange> { range };
            foreach (var cut in exclude.Where(e => e.Overlaps(range)))
            {
                var next = new List<IpRange>();
                foreach (var piece in pieces)
                {
                    if (!piece.Overlaps(cut))
                    {
                        next.Add(piece);
                        continue;
                    }
                    if (cut.First > piece.First)
                        next.Add(piece with { Last = cut.First - 1 });
                    if (cut.Last < piece.Last)
                        next.Add(piece with { First = cut.Last + 1 });
                }
                pieces = next;
            }
            result.AddRange(pieces);
        }
        return result;
    }
}
