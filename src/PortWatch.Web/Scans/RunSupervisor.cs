using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Metrics;

namespace PortWatch.Web.Scans;

/// <summary>
/// Every few seconds on every node: checks this node in (the cluster view, and a real write that
/// /health reports on), and looks for work nobody is doing: a running shard whose heartbeat has
/// expired (its node died or is cut off) is fired again at once, ahead of fresh shards, or ended
/// if its run was cancelled; a run whose shards have all ended but which nobody finalises (its
/// finaliser died, the database refused for too long) gets a look from the finaliser. Quartz's
/// own recovery would get there too, but only after its misfire pass, up to minutes later.
/// </summary>
public sealed class RunSupervisor(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<ScanningOptions> options,
    ResolvedDatabase database,
    ScanQueue queue,
    DatabaseWriteHealth writeHealth,
    TimeProvider clock,
    ILogger<RunSupervisor> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    private readonly DateTime startedAt = clock.GetUtcNow().UtcDateTime;

    /// <summary>When each piece of work was last fired from here, so a busy pool is not handed the same work every pass.</summary>
    private readonly ConcurrentDictionary<string, DateTime> fired = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await CheckInAsync(stoppingToken);
                await SuperviseAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (DatabaseWriteHealth.IsTransient(ex))
                    writeHealth.Failed(ex);
                logger.LogWarning("Run supervision failed: {Error}", DatabaseWriteHealth.Describe(ex));
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task CheckInAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await db.ScanNodes.Where(n => n.Id == ClusterNode.Id).ExecuteUpdateAsync(u => u.SetProperty(n => n.LastSeenAt, now), cancellationToken);
        if (updated == 0)
        {
            db.ScanNodes.Add(new ScanNode { Id = ClusterNode.Id, StartedAt = startedAt, LastSeenAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }
        writeHealth.Succeeded();
    }

    /// <summary>One pass; public for tests.</summary>
    public async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        var expired = now - lease;
        // SQLite has exactly one node: work recorded under another node id belongs to a process that is gone.
        var singleNode = database.Provider == DatabaseProvider.Sqlite;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var orphaned = await db.ScanShards.AsNoTracking()
            .Where(s => s.Status == ScanRunStatus.Running
                && (s.HeartbeatAt == null || s.HeartbeatAt < expired || (singleNode && s.Node != ClusterNode.Id)))
            // A paused run's shards gave their claim up on purpose: its window's trigger continues them, not this.
            .Join(db.ScanRuns.Where(r => r.Status == ScanRunStatus.Running && r.Phase != RunPhase.Paused), s => s.ScanRunId, r => r.Id,
                (s, r) => new { s.Id, s.ScanRunId, s.Index, s.Node, r.CancelRequestedAt })
            .ToListAsync(cancellationToken);
        foreach (var shard in orphaned)
        {
            if (shard.CancelRequestedAt is not null)
            {
                // Cancelled while its node was gone: nothing more will be scanned there.
                await db.ScanShards.Where(s => s.Id == shard.Id && s.Status == ScanRunStatus.Running && (s.HeartbeatAt == null || s.HeartbeatAt < expired || (singleNode && s.Node != ClusterNode.Id)))
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, ScanRunStatus.Cancelled).SetProperty(s => s.FinishedAt, now).SetProperty(s => s.GrantedRatePps, 0), cancellationToken);
                continue;
            }
            if (!ShouldFire($"shard-{shard.Id}", now, lease))
                continue;
            logger.LogWarning("Scan run {RunId} shard {Shard}: node {Node} stopped renewing it; taking it over", shard.ScanRunId, shard.Index, shard.Node ?? "(none)");
            PortWatchMetrics.ShardTakeovers.Add(1);
            await queue.ScheduleShardAsync(shard.ScanRunId, shard.Index, resumed: true, cancellationToken);
        }

        var unfinished = await db.ScanRuns.AsNoTracking()
            .Where(r => r.Status == ScanRunStatus.Running && r.Phase != RunPhase.Paused
                && (r.FinalizerLeaseUntil == null || r.FinalizerLeaseUntil < now || (singleNode && r.FinalizerNode != ClusterNode.Id))
                && db.ScanShards.Any(s => s.ScanRunId == r.Id)
                && !db.ScanShards.Any(s => s.ScanRunId == r.Id && (s.Status == ScanRunStatus.Queued || s.Status == ScanRunStatus.Running)))
            .Select(r => r.Id).ToListAsync(cancellationToken);
        foreach (var runId in unfinished)
        {
            if (!ShouldFire($"finalize-{runId}", now, lease))
                continue;
            if (singleNode)
            {
                // The lease belongs to a process that is gone: free it, so the look can claim it now.
                await db.ScanRuns.Where(r => r.Id == runId && r.FinalizerNode != ClusterNode.Id)
                    .ExecuteUpdateAsync(u => u.SetProperty(r => r.FinalizerLeaseUntil, (DateTime?)null), cancellationToken);
            }
            logger.LogInformation("Scan run {RunId}: every shard has ended and nobody finalises it; finalising", runId);
            await queue.ScheduleFinalizeAsync(runId, clock.GetUtcNow(), cancellationToken);
        }
        var byStatus = await db.ScanRuns.GroupBy(r => r.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Status, g => g.Count, cancellationToken);
        var waiting = await db.ScanShards.CountAsync(s => s.Status == ScanRunStatus.Queued, cancellationToken);
        PortWatchMetrics.SetRunCounts(byStatus, waiting);
        foreach (var (key, at) in fired)
        {
            if (now - at > lease * 4)
                fired.TryRemove(key, out _);
        }
    }

    private bool ShouldFire(string work, DateTime now, TimeSpan lease)
    {
        if (fired.TryGetValue(work, out var last) && now - last < lease)
            return false;
        fired[work] = now;
        return true;
    }
}
