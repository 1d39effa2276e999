using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;

namespace PortWatch.Web.Triage;

/// <summary>
/// Which asset an address belongs to (the most specific range containing it), for a whole run at
/// once: the assets' ranges are loaded once and searched in memory, instead of a query per address
/// (which made triage of a run with 100,000 addresses take tens of seconds).
/// </summary>
public sealed class AssetLocator
{
    private readonly string[] starts;
    private readonly string[] ends;
    private readonly int[] ids;

    /// <summary>For each position, the largest range end among the ranges up to it: a backward search stops once this is below the key.</summary>
    private readonly string[] maxEndSoFar;

    private AssetLocator(List<(string Start, string End, int Id)> ranges)
    {
        ranges.Sort((a, b) => string.CompareOrdinal(a.Start, b.Start));
        starts = ranges.Select(r => r.Start).ToArray();
        ends = ranges.Select(r => r.End).ToArray();
        ids = ranges.Select(r => r.Id).ToArray();
        maxEndSoFar = new string[ranges.Count];
        for (var i = 0; i < ranges.Count; i++)
            maxEndSoFar[i] = i == 0 || string.CompareOrdinal(ends[i], maxEndSoFar[i - 1]) > 0 ? ends[i] : maxEndSoFar[i - 1];
    }

    public static async Task<AssetLocator> LoadAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Assets.AsNoTracking().Select(a => new { a.RangeStart, a.RangeEnd, a.Id }).ToListAsync(cancellationToken);
        return new AssetLocator(rows.Select(r => (r.RangeStart, r.RangeEnd, r.Id)).ToList());
    }

    /// <summary>The asset whose range contains the address key and starts latest (the narrowest of nested ranges); null when none does.</summary>
    public int? Find(string addressKey)
    {
        // The last range starting at or before the key, then backwards to the first one that still reaches it.
        var low = 0;
        var high = starts.Length - 1;
        var last = -1;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            if (string.CompareOrdinal(starts[middle], addressKey) <= 0)
            {
                last = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        for (var i = last; i >= 0 && string.CompareOrdinal(maxEndSoFar[i], addressKey) >= 0; i--)
        {
            if (string.CompareOrdinal(ends[i], addressKey) >= 0)
                return ids[i];
        }
        return null;
    }
}
