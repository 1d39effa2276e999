using System.ComponentModel.DataAnnotations;

namespace PortWatch.Web.Configuration;

/// <summary>
/// Section "Sentinel": the always-on tier between full scans. Every IntervalMinutes it probes the
/// high-risk catalogue's ports (TCP and UDP) on every enabled asset, inside Scanning:MaxTotalRatePps,
/// one pass at a time; a pass never closes anything and never counts as full coverage. It also
/// recovers the coverage of hosts an earlier run lost (an anti-scan trap): it waits out the block
/// and re-verifies their known-open ports one by one.
/// </summary>
public sealed class SentinelOptions
{
    public const string Section = "Sentinel";

    public bool Enabled { get; set; } = true;

    [Range(1, 1440, ErrorMessage = "Sentinel:IntervalMinutes must be 1 to 1440 (default 5).")]
    public int IntervalMinutes { get; set; } = 5;

    /// <summary>The pass's share of Scanning:MaxTotalRatePps: what it asks for, granted like any shard's.</summary>
    [Range(1, 10_000_000, ErrorMessage = "Sentinel:RatePps must be 1 to 10000000 (default 2000).")]
    public int RatePps { get; set; } = 2000;

    /// <summary>Auto: the SYN engine where raw sockets are allowed, else connect().</summary>
    [EnumDataType(typeof(Data.Entities.ScanEngineKind), ErrorMessage = "Sentinel:Engine must be Auto, Syn or Connect (default Auto).")]
    public Data.Entities.ScanEngineKind Engine { get; set; } = Data.Entities.ScanEngineKind.Auto;

    [Range(0, 10, ErrorMessage = "Sentinel:Retries must be 0 to 10 (default 2).")]
    public int Retries { get; set; } = 2;

    [Range(100, 30_000, ErrorMessage = "Sentinel:TimeoutMs must be 100 to 30000 (default 1000).")]
    public int TimeoutMs { get; set; } = 1000;

    /// <summary>Passes that changed nothing are deleted after this many hours; the Scans page keeps a count per day.</summary>
    [Range(1, 8760, ErrorMessage = "Sentinel:KeepPassesHours must be 1 to 8760 (default 48).")]
    public int KeepPassesHours { get; set; } = 48;

    public bool RecoveryEnabled { get; set; } = true;

    /// <summary>While a lost host blocks the scanner, one of its known-open ports is probed this often.</summary>
    [Range(1, 3600, ErrorMessage = "Sentinel:RecoveryPollSeconds must be 1 to 3600 (default 10).")]
    public int RecoveryPollSeconds { get; set; } = 10;

    /// <summary>How long to wait for a blocking host to answer again before giving up until the next attempt.</summary>
    [Range(1, 1440, ErrorMessage = "Sentinel:RecoveryWaitMinutes must be 1 to 1440 (default 15).")]
    public int RecoveryWaitMinutes { get; set; } = 15;

    /// <summary>The pause between two re-verified ports: slow, so the re-verification does not trip the trap again.</summary>
    [Range(0, 60_000, ErrorMessage = "Sentinel:RecoverySpacingMs must be 0 to 60000 (default 2000).")]
    public int RecoverySpacingMs { get; set; } = 2000;

    [Range(100, 30_000, ErrorMessage = "Sentinel:RecoveryTimeoutMs must be 100 to 30000 (default 2000).")]
    public int RecoveryTimeoutMs { get; set; } = 2000;

    /// <summary>A host still blocking after RecoveryWaitMinutes is tried again after this many minutes.</summary>
    [Range(1, 10_080, ErrorMessage = "Sentinel:RecoveryRetryMinutes must be 1 to 10080 (default 60).")]
    public int RecoveryRetryMinutes { get; set; } = 60;
}
