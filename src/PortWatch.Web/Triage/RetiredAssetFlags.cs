using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>
/// A run can still see a retired asset's address (a scan typed by hand, an import). What it finds
/// there is flagged "asset retired" in the run's own transaction, before alerts read it, so it is
/// recorded but not alerted and stays out of the open counts, as the sync does for older findings.
/// </summary>
public static class RetiredAssetFlags
{
    public static async Task FlagRunAsync(PortWatchDbContext db, long runId, DateTime now, CancellationToken cancellationToken)
    {
        var retired = await db.Assets.AsNoTracking().Where(a => a.RetiredAt != null).Select(a => a.Target).ToListAsync(cancellationToken);
        if (retired.Count == 0)
            return;
        foreach (var target in retired)
        {
            var findings = await db.Findings.Within(IpRange.Parse(target))
                .Where(f => f.LastRunId == runId && (f.Flags & FindingFlags.AssetRetired) == 0).ToListAsync(cancellationToken);
            foreach (var finding in findings)
            {
                if (await db.Assets.Containing(IPAddress.Parse(finding.Address)).AnyAsync(a => a.Enabled, cancellationToken))
                    continue; // another asset still holds the address
                finding.Flags |= FindingFlags.AssetRetired;
                finding.UpdatedAt = now;
                TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.AssetRetired, $"seen on {target}, an asset its sources retired: recorded, not alerted");
            }
        }
        db.ChangeTracker.DetectChanges(); // triage's context runs with automatic change detection off
        await db.SaveChangesAsync(cancellationToken);
    }
}
