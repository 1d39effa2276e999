using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;

namespace PortWatch.Web.Sentinel;

/// <summary>What the Scans page shows of the sentinel tier instead of one row per pass.</summary>
public sealed record SentinelSummary(bool Enabled, int IntervalMinutes, int TcpPorts, int UdpPorts, ScanRun? LastPass, ScanRun? LastFinished,
    IReadOnlyList<SentinelDay> Days);

/// <summary>One day of passes (UTC): how many, how many failed, and the findings they made new or reopened.</summary>
public sealed record SentinelDay(DateOnly Day, int Passes, int Failed, int NewFindings);

/// <summary>
/// Starts sentinel passes: one run (trigger Sentinel) of the built-in sentinel profile, whose ports
/// are the risk catalogue's at that moment, over every enabled asset in scope. A pass is queued like
/// any run, so it takes its rate from the global budget, uses the same engine and is finalised,
/// triaged and alerted the same way; the finaliser and triage know a pass never closes anything and
/// never counts as full coverage.
/// </summary>
/// <remarks>Concurrency: one pass at a time. The pass job is [DisallowConcurrentExecution] (one firing
/// across the cluster) and a pass is not started while another is queued or running.</remarks>
public sealed class SentinelPasses(IDbContextFactory<PortWatchDbContext> dbFactory, ScanQueue queue, ScanScope scope, IOptions<SentinelOptions> options,
    TimeProvider clock, ILogger<SentinelPasses> logger)
{
    public const string ProfileName = "Sentinel (high-risk ports)";

    /// <summary>Queues a pass; null (with the reason logged) when one is still active, or there are no ports or no assets.</summary>
    public async Task<long?> StartPassAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.ScanRuns.AnyAsync(r => r.Trigger == ScanTrigger.Sentinel && (r.Status == ScanRunStatus.Queued || r.Status == ScanRunStatus.Running), cancellationToken))
        {
            logger.LogInformation("Sentinel: the previous pass is still running; this one is skipped");
            return null;
        }
        var rules = await db.RiskRules.AsNoTracking().Select(r => new { r.Port, r.Protocol }).ToListAsync(cancellationToken);
        var tcp = rules.Where(r => r.Protocol == TransportProtocol.Tcp).Select(r => (ushort)r.Port).Distinct().Order().ToList();
        var udp = rules.Where(r => r.Protocol == TransportProtocol.Udp).Select(r => (ushort)r.Port).Distinct().Order().ToList();
        if (tcp.Count + udp.Count == 0)
        {
            logger.LogInformation("Sentinel: the risk catalogue is empty; no pass");
            return null;
        }
        var guard = new ScopeGuard(await scope.AllowedAsync(cancellationToken));
        var assets = await db.Assets.AsNoTracking().Where(a => a.Enabled).Select(a => new { a.Id, a.Target }).ToListAsync(cancellationToken);
        var inScope = assets.Where(a => InScope(guard, a.Target)).Select(a => a.Id).ToList();
        if (inScope.Count < assets.Count)
            logger.LogWarning("Sentinel: {Count} enabled asset(s) are outside the allowed scope and are not probed", assets.Count - inScope.Count);
        if (inScope.Count == 0)
            return null;

        var profile = await db.ScanProfiles.SingleOrDefaultAsync(p => p.BuiltIn && p.Name == ProfileName, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        if (profile is null)
        {
            profile = new ScanProfile { Name = ProfileName, BuiltIn = true, CreatedAt = now };
            db.ScanProfiles.Add(profile);
        }
        profile.Description = "Kept by the sentinel tier: the risk catalogue's ports, every few minutes";
        profile.TcpPorts = tcp.Count > 0 ? PortSet.Compact(tcp) : "";
        profile.UdpPorts = udp.Count > 0 ? PortSet.Compact(udp) : "";
        profile.TcpEnabled = tcp.Count > 0;
        profile.UdpEnabled = udp.Count > 0;
        profile.RatePps = settings.RatePps;
        profile.Retries = settings.Retries;
        profile.TimeoutMs = settings.TimeoutMs;
        profile.Engine = settings.Engine;
        profile.ServiceDetection = true;
        profile.VersionIntensity = 7;
        profile.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            return await queue.QueueAsync(new ScanRequest { AssetIds = inScope, ProfileId = profile.Id, Trigger = ScanTrigger.Sentinel, RequestedBy = "sentinel" }, cancellationToken);
        }
        catch (ScanRequestException ex)
        {
            logger.LogWarning("Sentinel: the pass cannot start: {Reason}", ex.Message);
            return null;
        }
    }

    private static bool InScope(ScopeGuard guard, string target)
    {
        try
        {
            guard.Check(TargetSet.Create([target]));
            return true;
        }
        catch (TargetSpecException)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes finished passes older than Sentinel:KeepPassesHours that changed nothing: no finding
    /// event names them and no finding's latest run or observation is theirs. What they found stays
    /// on the findings; the day counts on the Scans page are of the passes kept.
    /// </summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken = default)
    {
        var cutoff = clock.GetUtcNow().UtcDateTime - TimeSpan.FromHours(options.Value.KeepPassesHours);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var removable = db.ScanRuns.Where(r => r.Trigger == ScanTrigger.Sentinel && r.FinishedAt != null && r.FinishedAt < cutoff
            && !db.FindingEvents.Any(e => e.ScanRunId == r.Id)
            && !db.Findings.Any(f => f.LastRunId == r.Id)
            && !db.PortObservations.Any(o => o.ScanRunId == r.Id && db.Findings.Any(f => f.LastObservationId == o.Id))
            && !db.AlertDeliveries.Any(d => d.ScanRunId == r.Id));
        var ids = await removable.Select(r => r.Id).Take(500).ToListAsync(cancellationToken);
        if (ids.Count == 0)
            return 0;
        var deleted = await db.ScanRuns.Where(r => ids.Contains(r.Id)).ExecuteDeleteAsync(cancellationToken);
        logger.LogInformation("Sentinel: deleted {Count} pass(es) older than {Hours} h that changed nothing", deleted, options.Value.KeepPassesHours);
        return deleted;
    }

    public async Task<SentinelSummary> SummaryAsync(int days = 7, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var passes = db.ScanRuns.AsNoTracking().Where(r => r.Trigger == ScanTrigger.Sentinel);
        var last = await passes.OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        var lastFinished = await passes.Where(r => r.FinishedAt != null).OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        var since = clock.GetUtcNow().UtcDateTime.Date.AddDays(1 - days);
        var recent = await passes.Where(r => r.CreatedAt >= since).Select(r => new { r.Id, r.CreatedAt, r.Status }).ToListAsync(cancellationToken);
        var ids = recent.Select(r => r.Id).ToList();
        var news = await db.FindingEvents.AsNoTracking()
            .Where(e => e.ScanRunId != null && ids.Contains(e.ScanRunId.Value) && (e.Kind == FindingEventKind.New || e.Kind == FindingEventKind.Reopened))
            .Select(e => e.ScanRunId!.Value).ToListAsync(cancellationToken);
        var newByRun = news.GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        var byDay = recent.GroupBy(r => DateOnly.FromDateTime(r.CreatedAt)).OrderByDescending(g => g.Key)
            .Select(g => new SentinelDay(g.Key, g.Count(), g.Count(r => r.Status == ScanRunStatus.Failed), g.Sum(r => newByRun.GetValueOrDefault(r.Id))))
            .ToList();
        var profile = await db.ScanProfiles.AsNoTracking().FirstOrDefaultAsync(p => p.BuiltIn && p.Name == ProfileName, cancellationToken);
        var tcpCount = profile is { TcpEnabled: true } ? PortSet.Parse(profile.TcpPorts).Tcp.Count : 0;
        var udpCount = profile is { UdpEnabled: true } && !string.IsNullOrEmpty(profile.UdpPorts) ? PortSet.Parse(profile.UdpPorts, PortProtocol.Udp).Udp.Count : 0;
        return new SentinelSummary(options.Value.Enabled, options.Value.IntervalMinutes, tcpCount, udpCount, last, lastFinished, byDay);
    }
}
