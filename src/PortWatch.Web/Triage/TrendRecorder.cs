using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>Writes today's counts for the Overview's trend chart (one row per UTC day, rewritten as the day goes on).</summary>
public static class TrendRecorder
{
    public static async Task RecordAsync(IDbContextFactory<PortWatchDbContext> dbFactory, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var open = db.Findings.Where(f => f.CurrentState == PortState.Open && f.Status != TriageStatus.Resolved);
        var counts = new
        {
            Open = await open.CountAsync(cancellationToken),
            Abnormal = await db.Findings.CountAsync(f => f.Status == TriageStatus.Abnormal, cancellationToken),
            HighRisk = await open.CountAsync(f => f.Severity >= Severity.High, cancellationToken),
            Unreviewed = await db.Findings.CountAsync(f => f.Status == TriageStatus.Unreviewed, cancellationToken),
        };
        var day = now.Date;
        var row = await db.TrendSnapshots.SingleOrDefaultAsync(t => t.Day == day, cancellationToken);
        if (row is null)
            db.TrendSnapshots.Add(row = new TrendSnapshot { Day = day });
        (row.Open, row.Abnormal, row.HighRisk, row.Unreviewed) = (counts.Open, counts.Abnormal, counts.HighRisk, counts.Unreviewed);
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
