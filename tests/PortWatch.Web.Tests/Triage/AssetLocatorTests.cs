using System.Net;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Tests.Data;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tests.Triage;

/// <summary>Which asset an address belongs to, found in memory for a whole run: the narrowest of nested ranges, none outside them all.</summary>
public sealed class AssetLocatorTests
{
    [Fact]
    public async Task Find_NestedAndDisjointRanges_ReturnsTheNarrowestContainingAsset()
    {
        await using var database = await SqliteDatabase.CreateMigratedAsync();
        int wide, narrow, single, other;
        await using (var db = database.CreateContext())
        {
            Asset Add(string target)
            {
                var asset = new Asset { Name = target, Target = target, RangeStart = "", RangeEnd = "", CreatedAt = DateTime.UtcNow, SourceOfRecord = "manual" };
                asset.SetRange(IpRange.Parse(target));
                db.Assets.Add(asset);
                return asset;
            }
            var a = Add("198.51.100.0/24");
            var b = Add("198.51.100.64/26");
            var c = Add("198.51.100.70");
            var d = Add("203.0.113.0/25");
            await db.SaveChangesAsync();
            (wide, narrow, single, other) = (a.Id, b.Id, c.Id, d.Id);
        }
        await using var read = database.CreateContext();
        var locator = await AssetLocator.LoadAsync(read, CancellationToken.None);

        string Key(string address) => IpKey.From(IPAddress.Parse(address));
        Assert.Equal(wide, locator.Find(Key("198.51.100.1")));
        Assert.Equal(narrow, locator.Find(Key("198.51.100.65")));
        Assert.Equal(single, locator.Find(Key("198.51.100.70")));
        Assert.Equal(narrow, locator.Find(Key("198.51.100.71")));
        Assert.Equal(wide, locator.Find(Key("198.51.100.200"))); // after the nested ranges, back in the wide one
        Assert.Equal(other, locator.Find(Key("203.0.113.5")));
        Assert.Null(locator.Find(Key("203.0.113.200")));
        Assert.Null(locator.Find(Key("192.0.2.1")));
    }
}
