using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>How a finding was first detected: the run of its first "new" event, and that run's trigger.</summary>
public sealed record FindingDetection(long? RunId, ScanTrigger? Trigger)
{
    /// <summary>"scan", "sentinel", "flow", "recovery", "import", or "unknown" when the run is gone.</summary>
    public string Kind => Trigger switch
    {
        ScanTrigger.Flow => "flow",
        ScanTrigger.Sentinel => "sentinel",
        ScanTrigger.Recovery => "recovery",
        ScanTrigger.Import => "import",
        null => "unknown",
        _ => "scan",
    };

    /// <summary>For people: "flow data, checked at once (run #12)".</summary>
    public string Description => Trigger switch
    {
        ScanTrigger.Flow => $"flow data, checked at once (run #{RunId})",
        ScanTrigger.Sentinel => $"a sentinel pass over the high-risk ports (run #{RunId})",
        ScanTrigger.Recovery => $"a coverage recovery of its host (run #{RunId})",
        ScanTrigger.Import => $"an imported scan file (run #{RunId})",
        ScanTrigger.Scheduled => $"a scheduled scan (run #{RunId})",
        null => "unknown (its first run is gone)",
        _ => $"a scan started by hand or the API (run #{RunId})",
    };

    public static async Task<FindingDetection> OfAsync(PortWatchDbContext db, long findingId, CancellationToken cancellationToken = default)
    {
        var runId = await db.FindingEvents.AsNoTracking().Where(e => e.FindingId == findingId && e.Kind == FindingEventKind.New)
            .OrderBy(e => e.At).ThenBy(e => e.Id).Select(e => e.ScanRunId).FirstOrDefaultAsync(cancellationToken);
        var trigger = runId is { } id ? await db.ScanRuns.AsNoTracking().Where(r => r.Id == id).Select(r => (ScanTrigger?)r.Trigger).FirstOrDefaultAsync(cancellationToken) : null;
        return new FindingDetection(runId, trigger);
    }
}
