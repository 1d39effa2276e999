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
