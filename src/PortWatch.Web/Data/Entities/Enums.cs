namespace PortWatch.Web.Data.Entities;

public enum IpFamily
{
    IPv4 = 4,
    IPv6 = 6,
}

public enum TransportProtocol
{
    Tcp = 6,
    Udp = 17,
}

/// <summary>Port states as nmap names them; "open|filtered" is a UDP port that never answered.</summary>
public enum PortState
{
    Open = 1,
    Closed = 2,
    Filtered = 3,
    OpenFiltered = 4,
}

public static class TransportProtocolNames
{
    /// <summary>"tcp" or "udp", as nmap writes it.</summary>
    public static string Name(this TransportProtocol protocol) => protocol == TransportProtocol.Udp ? "udp" : "tcp";
}

public enum ScanEngineKind
{
    Auto = 0,
    Syn = 1,
    Connect = 2,
}

public enum ScanRunStatus
{
    Queued = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Cancelled = 4,
}

public enum ScanTrigger
{
    Manual = 0,
    Scheduled = 1,
    Api = 2,
    Import = 3,
    /// <summary>A port that flow data showed answering, checked at once (one address and port; never closes anything).</summary>
    Flow = 4,
    /// <summary>A pass of the sentinel tier: the high-risk catalogue's ports on every enabled asset. Never closes anything and is never a baseline.</summary>
    Sentinel = 5,
    /// <summary>Coverage recovery of a host an earlier run lost (an anti-scan trap): its known-open ports re-verified one by one.</summary>
    Recovery = 6,
}

public static class ScanTriggerRules
{
    /// <summary>
    /// A check between scans (a flow check, a sentinel pass, a coverage recovery): it looks at a few
    /// ports, so it is never a host's baseline, never closes a finding and never counts as full coverage.
    /// </summary>
    public static bool IsTargetedCheck(this ScanTrigger trigger) => trigger is ScanTrigger.Flow or ScanTrigger.Sentinel or ScanTrigger.Recovery;

    /// <summary>
    /// The run is itself a confirmation: a flow check is a full connect and service detection made seconds before its
    /// alert, so the alert's re-check would only delay it.
    /// </summary>
    public static bool ConfirmsWhatItFinds(this ScanTrigger trigger) => trigger is ScanTrigger.Flow;
}

public enum TargetCoverageStatus
{
    Pending = 0,
    Complete = 1,
    Partial = 2,
    /// <summary>The target stopped answering part-way: what was not seen is unknown, not closed.</summary>
    Lost = 3,
}

public enum TriageStatus
{
    Unreviewed = 0,
    Expected = 1,
    Abnormal = 2,
    Resolved = 3,
}

public enum Severity
{
    Info = 0,
    Low = 1,
    Medium = 2,
    High = 3,
    Critical = 4,
}

public enum ScheduleAssetSelection
{
    All = 0,
    Tag = 1,
    List = 2,
}

public enum FindingKind
{
    Port = 0,
    /// <summary>A host with more open ports than the anomaly threshold (SYN proxy, tarpit, trap): one finding, not hundreds.</summary>
    HostAnomaly = 1,
}

[Flags]
public enum FindingFlags
{
    None = 0,
    /// <summary>The service or product on the port differs from what was seen before.</summary>
    ServiceChanged = 1,
    /// <summary>An exception bound to an expected service stopped applying because the service changed.</summary>
    ExceptionMismatch = 2,
    /// <summary>The address is one of the scanner's own.</summary>
    ScannerAddress = 4,
    /// <summary>Every asset holding the address was retired by its sources: not scanned, not alerted, out of the open counts; not closed.</summary>
    AssetRetired = 8,
}

public enum FindingEventKind
{
    /// <summary>Open for the first time.</summary>
    New = 0,
    /// <summary>Open again after it was closed or resolved.</summary>
    Reopened = 1,
    /// <summary>Not open on a run that covered its target completely.</summary>
    Closed = 2,
    ServiceChanged = 3,
    /// <summary>Seen in a run that lost coverage of the target: state kept, not closed.</summary>
    CoverageLost = 4,
    ExceptionApplied = 5,
    ExceptionLapsed = 6,
    TriageChanged = 7,
    Alerted = 9,
    AlertSuppressed = 10,
    AlertDeferred = 11,
    /// <summary>An analyst added to the discussion.</summary>
    Commented = 12,
    /// <summary>A ticket was opened in another system.</summary>
    TicketCreated = 13,
    /// <summary>Its asset was retired by an asset source, or came back.</summary>
    AssetRetired = 14,
    AssetUnretired = 15,
    /// <summary>Silent now (filtered) while its host answers on other ports: no longer reachable from the scanner, which is not closed.</summary>
    Unreachable = 16,
}

public enum HostLabelKind
{
    /// <summary>The host stopped answering part-way through a scan and answered again later: it blocks scanners for a while.</summary>
    AntiScanTrapSuspected = 1,
}

public enum AlertDeliveryStatus
{
    Pending = 0,
    Sent = 1,
    Failed = 2,
}

public enum ExceptionScopeKind
{
    Any = 0,
    Address = 1,
    Cidr = 2,
    Tag = 3,
}

public enum AlertChannelKind
{
    Webhook = 0,
    Slack = 1,
    Teams = 2,
    Email = 3,
}

/// <summary>The steps of a running run, in order; stored by name.</summary>
public enum RunPhase
{
    /// <summary>The shards are sending probes.</summary>
    Discovery,

    /// <summary>Outside its schedule's window; continues at <see cref="ScanRun.PausedUntil"/>.</summary>
    Paused,

    /// <summary>Every shard has ended; a node holds the finaliser's lease. Nothing of the finalisation has been written yet.</summary>
    Finalizing,

    ServiceDetection,

    /// <summary>Findings, the diff and exceptions; written in one transaction with the move to <see cref="Alerts"/>.</summary>
    Triage,

    Alerts,
}
