using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>
/// The "asset retired" flag of findings, kept by the two things that change it: a sync that
/// retires or brings back assets, and a run that still sees a retired asset's address (a scan
/// typed by hand, an import), which is flagged in the run's own transaction before alerts read it.
/// Either way the finding stays open, out of the open counts and alerts.
/// </summary>
public static class RetiredAssetFlags
{
    /// <summary>Flags what this run found on addresses that only retired assets hold (the run's triage calls it).</summary>
    public static async Task FlagRunAsync(PortWatchDbContext db, long runId, DateTime now, CancellationToken cancellationToken)
    {
        var retired = await db.Assets.AsNoTracking().Where(a => a.RetiredAt != null).Select(a => a.Target).ToListAsync(cancellationToken);
        foreach (var target in retired)
        {
            var findings = await db.Findings.Within(IpRange.Parse(target))
                .Where(f => f.LastRunId == runId && (f.Flags & FindingFlags.AssetRetired) == 0).ToListAsync(cancellationToken);
            await UpdateAsync(db, findings, runId, $"seen on {target}, an asset its sources retired: recorded, not alerted", null, now, cancellationToken);
        }
    }

    /// <summary>
    /// After a sync retired or brought back assets: every finding in their ranges is flagged when only retired assets
    /// hold its address, and loses the flag when an enabled one does again.
    /// </summary>
    public static async Task RecomputeAsync(PortWatchDbContext db, IEnumerable<string> targets, string source, DateTime now, CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            var findings = await db.Findings.Within(IpRange.Parse(target)).ToListAsync(cancellationToken);
            await UpdateAsync(db, findings, null, $"asset {target} retired: source {source} no longer lists it",
                $"asset {target} is back: source {source} lists it again", now, cancellationToken);
        }
    }

    private static async Task UpdateAsync(PortWatchDbContext db, List<Finding> findings, long? runId, string retiredDetail, string? backDetail, DateTime now,
        CancellationToken cancellationToken)
    {
        foreach (var finding in findings)
        {
            var address = IPAddress.Parse(finding.Address);
            var held = await db.Assets.Containing(address).AnyAsync(a => a.Enabled, cancellationToken);
            var retired = !held && await db.Assets.Containing(address).AnyAsync(a => a.RetiredAt != null, cancellationToken);
            var flagged = finding.Flags.HasFlag(FindingFlags.AssetRetired);
            if (retired && !flagged)
            {
                finding.Flags |= FindingFlags.AssetRetired;
                finding.UpdatedAt = now;
                TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.AssetRetired, retiredDetail);
            }
            else if (!retired && flagged && backDetail is not null)
            {
                finding.Flags &= ~FindingFlags.AssetRetired;
                finding.UpdatedAt = now;
                TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.AssetUnretired, backDetail);
            }
        }
        db.ChangeTracker.DetectChanges(); // triage's context runs with automatic change detection off
        await db.SaveChangesAsync(cancellationToken);
    }
}
