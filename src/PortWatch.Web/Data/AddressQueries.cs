using System.Net;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data;

/// <summary>Address-range filters that run in the database (string comparisons on <see cref="IpKey"/> columns).</summary>
public static class AddressQueries
{
    /// <summary>Assets whose range contains the address.</summary>
    public static IQueryable<Asset> Containing(this IQueryable<Asset> assets, IPAddress address)
    {
        var key = IpKey.From(address);
        return assets.Where(a => string.Compare(a.RangeStart, key) <= 0 && string.Compare(a.RangeEnd, key) >= 0);
    }

    /// <summary>Assets whose range overlaps the given range.</summary>
    public static IQueryable<Asset> Overlapping(this IQueryable<Asset> assets, IpRange range)
    {
        var (start, end) = IpKey.From(range);
        return assets.Where(a => string.Compare(a.RangeStart, end) <= 0 && string.Compare(a.RangeEnd, start) >= 0);
    }

    /// <summary>Findings on addresses inside the range.</summary>
    public static IQueryable<Finding> Within(this IQueryable<Finding> findings, IpRange range)
    {
        var (start, end) = IpKey.From(range);
        return findings.Where(f => string.Compare(f.AddressKey, start) >= 0 && string.Compare(f.AddressKey, end) <= 0);
    }

    /// <summary>Observations on addresses inside the range.</summary>
    public static IQueryable<PortObservation> Within(this IQueryable<PortObservation> observations, IpRange range)
    {
        var (start, end) = IpKey.From(range);
        return observations.Where(o => string.Compare(o.AddressKey, start) >= 0 && string.Compare(o.AddressKey, end) <= 0);
    }

    /// <summary>Sets the asset's target, family and range keys from a parsed range.</summary>
    public static void SetRange(this Asset asset, IpRange range)
    {
        var (start, end) = IpKey.From(range);
        asset.Target = range.ToString();
        asset.Family = range.Family == System.Net.Sockets.AddressFamily.InterNetwork ? IpFamily.IPv4 : IpFamily.IPv6;
        asset.RangeStart = start;
        asset.RangeEnd = end;
    }
}
