namespace PortWatch.Web.Data.Entities;

/// <summary>
/// A slice of a run's targets (dense indices [FirstTarget, FirstTarget+TargetCount)) scanned
/// by one Quartz job, on whichever node picks it up. Its checkpoint lets another node take over.
/// </summary>
public class ScanShard
{
    public long Id { get; set; }

    public long ScanRunId { get; set; }

    public int Index { get; set; }

    public long FirstTarget { get; set; }

    public long TargetCount { get; set; }

    public ScanRunStatus Status { get; set; } = ScanRunStatus.Queued;

    public long? CheckpointPosition { get; set; }

    public string? Node { get; set; }

    /// <summary>
    /// Written every few seconds by the node running the shard. A running shard whose heartbeat is
    /// older than Scanning:LeaseSeconds has lost its node: its rate grant no longer counts and
    /// another node takes it over from its checkpoint.
    /// </summary>
    public DateTime? HeartbeatAt { get; set; }

    public long PacketsSent { get; set; }

    public long RepliesReceived { get; set; }

    public int ClosedCount { get; set; }

    public int FilteredCount { get; set; }

    public int ResumeCount { get; set; }

    /// <summary>Packets per second granted from the cluster-wide budget while the shard runs; 0 otherwise.</summary>
    public int GrantedRatePps { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public string? Error { get; set; }
}
