namespace PortWatch.Web.Data.Entities;

/// <summary>One execution of a scan, from queue to completion, with what it covered.</summary>
public class ScanRun
{
    public long Id { get; set; }

    public ScanRunStatus Status { get; set; } = ScanRunStatus.Queued;

    public ScanTrigger Trigger { get; set; }

    /// <summary>Where a running run is (null once it has ended); its finaliser resumes from the phase it reached.</summary>
    public RunPhase? Phase { get; set; }

    /// <summary>While <see cref="RunPhase.Paused"/>, or queued by a schedule outside its window: when the window opens (again).</summary>
    public DateTime? PausedUntil { get; set; }

    /// <summary>
    /// The node finalising the run (service detection, triage, alerts) and until when its claim
    /// holds; it renews the claim while it works, another node takes over only after it expired.
    /// </summary>
    public string? FinalizerNode { get; set; }

    public DateTime? FinalizerLeaseUntil { get; set; }

    public int? ScheduleId { get; set; }

    public Schedule? Schedule { get; set; }

    public int? ScanProfileId { get; set; }

    public ScanProfile? ScanProfile { get; set; }

    /// <summary>The target specification as requested (assets expanded to their ranges).</summary>
    public string TargetSpec { get; set; } = "";

    /// <summary>Targets left out of <see cref="TargetSpec"/> (the scanner's own addresses), fixed when the run is split so every node scans the same set.</summary>
    public string? ExcludedTargets { get; set; }

    /// <summary>The ports the run probed, as port specs: a finding is "closed" only if its port was among them.</summary>
    public string? ScannedTcpPorts { get; set; }

    public string? ScannedUdpPorts { get; set; }

    /// <summary>Things the analyst should know about the run (exclusions, anomalies), one per line.</summary>
    public string? Notes { get; set; }

    public string? RequestedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public long TargetCount { get; set; }

    public int PortCount { get; set; }

    public long PacketsSent { get; set; }

    public long RepliesReceived { get; set; }

    public int OpenCount { get; set; }

    public int ClosedCount { get; set; }

    public int FilteredCount { get; set; }

    /// <summary>Seed of the target×port permutation (each shard's order derives from it), and the probes behind the shards' checkpoints, summed.</summary>
    public long? PermutationSeed { get; set; }

    public long? CheckpointPosition { get; set; }

    public int ResumeCount { get; set; }

    public string? Error { get; set; }

    /// <summary>Set by whoever cancels; the node running the scan sees it at its next checkpoint and stops.</summary>
    public DateTime? CancelRequestedAt { get; set; }

    /// <summary>The node (instance id) running or last running the scan.</summary>
    public string? Node { get; set; }

    public List<ScanTargetCoverage> Coverage { get; set; } = [];
}
