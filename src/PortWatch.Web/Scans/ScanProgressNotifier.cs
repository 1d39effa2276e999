using System.Collections.Concurrent;

using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Scans;

/// <summary>Live progress of one shard of a run on this node, or (from <see cref="RunProgressReader"/>) of a whole run.</summary>
public sealed record RunProgress(long RunId, int Shard, string Phase, ulong Sent, ulong Total, ulong Answered, double PacketsPerSecond, TimeSpan? EstimatedRemaining, int OpenFound);

/// <summary>A finaliser phase's progress: ports done of ports to do, since when.</summary>
public sealed record PhaseProgress(RunPhase Phase, int Done, int Total, DateTime StartedAt)
{
    /// <summary>From the pace so far; null until there is one.</summary>
    public TimeSpan? Remaining(DateTime now) =>
        Done == 0 || Done >= Total ? null : TimeSpan.FromSeconds((now - StartedAt).TotalSeconds / Done * (Total - Done));
}

/// <summary>
/// In-process publish/subscribe for shard progress and run state changes. Components subscribe
/// and re-render through InvokeAsync; a slow subscriber cannot hold up a scan. Only this node's
/// shards are here: a run's progress over the cluster comes from <see cref="RunProgressReader"/>.
/// </summary>
public sealed class ScanProgressNotifier
{
    private readonly ConcurrentDictionary<(long RunId, int Shard), RunProgress> latest = new();
    private readonly ConcurrentDictionary<long, PhaseProgress> phases = new();

    public event Action<RunProgress>? ProgressChanged;

    /// <summary>A run was queued, started, finished, failed or was cancelled.</summary>
    public event Action<long>? RunChanged;

    /// <summary>The latest progress of each of the run's shards running on this node, by shard index.</summary>
    public IReadOnlyDictionary<int, RunProgress> LocalShards(long runId) =>
        latest.Where(p => p.Key.RunId == runId).ToDictionary(p => p.Key.Shard, p => p.Value);

    /// <summary>Packets per second of all this node's shards now.</summary>
    public double LocalPacketRate() => latest.Values.Sum(p => p.PacketsPerSecond);

    public void Publish(RunProgress progress)
    {
        latest[(progress.RunId, progress.Shard)] = progress;
        ProgressChanged?.Invoke(progress);
    }

    public void PublishRunChanged(long runId)
    {
        RunChanged?.Invoke(runId);
    }

    /// <summary>The shard has stopped on this node (ended, paused, handed over).</summary>
    public void ForgetShard(long runId, int shard) => latest.TryRemove((runId, shard), out _);

    /// <summary>How far a finaliser on this node is in a phase that works port by port (service detection).</summary>
    public void PublishPhase(long runId, PhaseProgress progress) => phases[runId] = progress;

    /// <summary>The finaliser's progress on this node, or null (not in such a phase, or on another node).</summary>
    public PhaseProgress? PhaseOf(long runId) => phases.TryGetValue(runId, out var p) ? p : null;

    public void ForgetPhase(long runId) => phases.TryRemove(runId, out _);

    public void Forget(long runId)
    {
        phases.TryRemove(runId, out _);
        foreach (var key in latest.Keys.Where(k => k.RunId == runId))
            latest.TryRemove(key, out _);
    }
}
