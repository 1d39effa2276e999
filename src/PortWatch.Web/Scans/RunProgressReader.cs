using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>
/// A running run's progress summed over all its shards, wherever they run: this node's shards
/// from their live progress, the other nodes' from the counters their checkpoints store (a few
/// seconds old at most). Without this, each node's page showed only its own shards' share.
/// </summary>
public sealed class RunProgressReader(IDbContextFactory<PortWatchDbContext> dbFactory, ScanProgressNotifier notifier)
{
    public async Task<Dictionary<long, RunProgress>> ReadAsync(IReadOnlyCollection<long> runIds, CancellationToken cancellationToken = default)
    {
        if (runIds.Count == 0)
            return [];
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var runs = await db.ScanRuns.AsNoTracking().Where(r => runIds.Contains(r.Id))
            .Select(r => new { r.Id, r.TargetCount, r.PortCount, r.Phase }).ToListAsync(cancellationToken);
        var shards = await db.ScanShards.AsNoTracking().Where(s => runIds.Contains(s.ScanRunId))
            .Select(s => new { s.ScanRunId, s.Index, s.PacketsSent, s.RepliesReceived, s.CheckpointPosition, s.TargetCount }).ToListAsync(cancellationToken);
        var open = await db.PortObservations.AsNoTracking().Where(o => runIds.Contains(o.ScanRunId) && o.State == PortState.Open)
            .GroupBy(o => o.ScanRunId).Select(g => new { RunId = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.RunId, g => g.Count, cancellationToken);
        var result = new Dictionary<long, RunProgress>();
        foreach (var run in runs)
        {
            var local = notifier.LocalShards(run.Id);
            ulong sent = 0, answered = 0;
            double rate = 0;
            var liveOpen = 0;
            foreach (var shard in shards.Where(s => s.ScanRunId == run.Id))
            {
                if (local.TryGetValue(shard.Index, out var live))
                {
                    sent += live.Sent;
                    answered += live.Answered;
                    rate += live.PacketsPerSecond;
                    liveOpen += live.OpenFound;
                }
                else
                {
                    sent += (ulong)Math.Max(0, shard.PacketsSent);
                    answered += (ulong)Math.Max(0, shard.RepliesReceived);
                }
            }
            var total = (ulong)Math.Max(0, run.TargetCount) * (ulong)Math.Max(0, run.PortCount);
            TimeSpan? remaining = rate > 0 && total > sent ? TimeSpan.FromSeconds((total - sent) / rate) : null;
            result[run.Id] = new RunProgress(run.Id, -1, RunPhases.Label(run.Phase), Math.Min(sent, total == 0 ? sent : total), total, answered, rate, remaining,
                // Stored observations lag this node's shards by up to a checkpoint; those shards' own count is current.
                Math.Max(open.GetValueOrDefault(run.Id), liveOpen));
        }
        return result;
    }
}

/// <summary>How a phase reads on the pages and in the API.</summary>
public static class RunPhases
{
    public static string Label(RunPhase? phase) => phase switch
    {
        null => "",
        RunPhase.Discovery => "discovery",
        RunPhase.Paused => "paused",
        RunPhase.Finalizing => "finalising",
        RunPhase.ServiceDetection => "service detection",
        RunPhase.Triage => "triage",
        RunPhase.Alerts => "alerts",
        _ => phase.Value.ToString(),
    };
}
