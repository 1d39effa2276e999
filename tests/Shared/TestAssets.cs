using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Tests.Shared;

/// <summary>An inventory entry for a test's addresses, with its range keys set as the inventory sets them.</summary>
public static class TestAssets
{
    public static Asset For(string range, string name, string? owner = null, DateTime? createdAt = null)
    {
        var asset = new Asset { Name = name, Target = "", RangeStart = "", RangeEnd = "", Owner = owner, CreatedAt = createdAt ?? DateTime.UtcNow };
        AddressQueries.SetRange(asset, IpRange.Parse(range));
        return asset;
    }
}
