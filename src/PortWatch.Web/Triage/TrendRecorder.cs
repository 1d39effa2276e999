using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>
/// Writes today's counts and top ports/services for the Overview (one row per UTC day, rewritten
/// after each run and every ten minutes). With a million findings these aggregates take seconds,
/// so the Overview reads them from here instead of computing them per page view.
/// </summary>
public static class TrendRecorder
{
    public static async Task RecordAsync(IDbContextFactory<PortWatchDbContext> dbFactory, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // The same figures as the Overview's cards: open is open whatever its triage, unreviewed counts the open ones.
        // A retired asset's findings leave the open counts (its sources no longer list the address); they are not closed.
        var open = db.Findings.Where(f => f.CurrentState == PortState.Open && (f.Flags & FindingFlags.AssetRetired) == 0);
        var counts = new
        {
            Open = await open.CountAsync(cancellationToken),
            Abnormal = await db.Findings.CountAsync(f => f.Status == TriageStatus.Abnormal, cancellationToken),
            HighRisk = await open.CountAsync(f => f.Severity >= Severity.High, cancellationToken),
            Unreviewed = await open.CountAsync(f => f.Status == TriageStatus.Unreviewed, cancellationToken),
        };
        var topPorts = await open.Where(f => f.Kind == FindingKind.Port).GroupBy(f => new { f.Port, f.Protocol })
            .Select(g => new { g.Key.Port, g.Key.Protocol, Count = g.Count() }).OrderByDescending(g => g.Count).Take(8).ToListAsync(cancellationToken);
        var topServices = await open.Where(f => f.ServiceName != null).GroupBy(f => f.ServiceName!)
            .Select(g => new { Name = g.Key, Count = g.Count() }).OrderByDescending(g => g.Count).Take(8).ToListAsync(cancellationToken);
        var day = now.Date;
        var row = await db.TrendSnapshots.SingleOrDefaultAsync(t => t.Day == day, cancellationToken);
        if (row is null)
            db.TrendSnapshots.Add(row = new TrendSnapshot { Day = day });
        (row.Open, row.Abnormal, row.HighRisk, row.Unreviewed) = (counts.Open, counts.Abnormal, counts.HighRisk, counts.Unreviewed);
        row.RecordedAt = now;
        row.TopPorts = string.Join('\n', topPorts.Select(p => FormattableString.Invariant($"{p.Port}/{p.Protocol.Name()} {p.Count}")));
        row.TopServices = string.Join('\n', topServices.Select(s => FormattableString.Invariant($"{s.Count} {s.Name.Replace('\n', ' ')}")));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another node wrote today's row at the same moment; its counts are as good.
        }
    }
}
