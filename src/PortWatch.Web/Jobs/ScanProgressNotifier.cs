using System.Collections.Concurrent;

namespace PortWatch.Web.Jobs;

/// <summary>Live progress of one run, pushed to whoever watches (the Scans page).</summary>
public sealed record RunProgress(long RunId, string Phase, ulong Sent, ulong Total, ulong Answered, double PacketsPerSecond, TimeSpan? EstimatedRemaining, int OpenFound);

/// <summary>
/// In-process publish/subscribe for run progress and run state changes. Components subscribe
/// and re-render through InvokeAsync; a slow subscriber cannot hold up a scan.
/// </summary>
public sealed class ScanProgressNotifier
{
    private readonly ConcurrentDictionary<long, RunProgress> latest = new();

    public event Action<RunProgress>? ProgressChanged;

    /// <summary>A run was queued, started, finished, failed or was cancelled.</summary>
    public event Action<long>? RunChanged;

    public RunProgress? Latest(long runId) => latest.GetValueOrDefault(runId);

    public void Publish(RunProgress progress)
    {
        latest[progress.RunId] = progress;
        ProgressChanged?.Invoke(progress);
    }

    public void PublishRunChanged(long runId)
    {
        RunChanged?.Invoke(runId);
    }

    public void Forget(long runId) => latest.TryRemove(runId, out _);
}
