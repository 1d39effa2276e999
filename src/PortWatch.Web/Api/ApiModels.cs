using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Api;

public sealed record Page<T>(int Total, int Skip, int Take, IReadOnlyList<T> Items);

public sealed record AssetDto(int Id, string Name, string Target, string? Owner, IReadOnlyList<string> Tags, string? Environment, bool Enabled, string SourceOfRecord, string? ExternalId)
{
    public static AssetDto From(Asset a) => new(a.Id, a.Name, a.Target, a.Owner, a.Tags, a.Environment, a.Enabled, a.SourceOfRecord, a.ExternalId);
}

/// <summary>A finding as the API shows it. Service, Product and Version came from the scanned host: treat them as untrusted text.</summary>
public sealed record FindingDto(long Id, string Address, int Port, string Protocol, FindingKind Kind, PortState State, string? Service, string? Product, string? Version,
    TriageStatus Status, Severity Severity, Severity? SeverityOverride, FindingFlags Flags, DateTime FirstSeen, DateTime LastSeen, string? Assignee, string? Notes,
    int? AssetId, int? ExceptionRuleId)
{
    public static FindingDto From(Finding f) => new(f.Id, f.Address, f.Port, f.Protocol.Name(), f.Kind, f.CurrentState, f.ServiceName, f.Product,
        f.Version, f.Status, f.Severity, f.SeverityOverride, f.Flags, f.FirstSeenAt, f.LastSeenAt, f.Assignee, f.Notes, f.AssetId, f.ExceptionRuleId);
}

public sealed record RunDto(long Id, ScanRunStatus Status, ScanTrigger Trigger, string? Phase, string TargetSpec, int? ProfileId, string? RequestedBy,
    DateTime CreatedAt, DateTime? StartedAt, DateTime? FinishedAt, long TargetCount, int OpenCount, int ClosedCount, int FilteredCount, int ResumeCount,
    string? Error, string? Notes)
{
    public static RunDto From(ScanRun r) => new(r.Id, r.Status, r.Trigger, Scans.RunPhases.Label(r.Phase) is { Length: > 0 } phase ? phase : null, r.TargetSpec, r.ScanProfileId, r.RequestedBy, r.CreatedAt, r.StartedAt, r.FinishedAt,
        r.TargetCount, r.OpenCount, r.ClosedCount, r.FilteredCount, r.ResumeCount, r.Error, r.Notes);
}

/// <summary>An exception as the API shows it (its own shape: the audit log's snapshot is a record of changes, not an API contract).</summary>
public sealed record ExceptionRuleDto(int Id, ExceptionScopeKind ScopeKind, string? ScopeValue, int PortFrom, int PortTo, TransportProtocol? Protocol,
    string? ExpectedService, string? ExpectedProduct, string Reason, string? Approver, DateTime? ExpiresAt, Severity? Severity, bool Enabled,
    string? CreatedBy, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ExceptionRuleDto From(ExceptionRule r) => new(r.Id, r.ScopeKind, r.ScopeValue, r.PortFrom, r.PortTo, r.Protocol, r.ExpectedService,
        r.ExpectedProduct, r.Reason, r.Approver, r.ExpiresAt, r.Severity, r.Enabled, r.CreatedBy, r.CreatedAt, r.UpdatedAt);
}

public sealed record CoverageDto(string Address, TargetCoverageStatus Status, int PortsPlanned, int PortsAnswered, string? Note);

public sealed record ChangeDto(long FindingId, string Address, int Port, string Protocol, FindingEventKind Change, string? Service, string? Product, string? Version, string? Detail);

public sealed record StartRunRequest(string? Targets, List<int>? AssetIds, string? Tag, int ProfileId);

public sealed record ExceptionFromFindingsRequest(string Reason, string? Approver, DateTime? ExpiresAt, bool BindToService, Severity? Severity);

/// <summary>One triage action on many findings: "expected", "abnormal", "resolve" or "reopen".</summary>
public sealed record CommentDto(long Id, string Author, DateTime At, string Text)
{
    public static CommentDto From(FindingComment c) => new(c.Id, c.Author, c.At, c.Text);
}

public sealed record TicketDto(string System, string Key, string? Url, string CreatedBy, DateTime CreatedAt)
{
    public static TicketDto From(FindingTicket t) => new(t.System, t.Key, t.Url, t.CreatedBy, t.CreatedAt);
}

public sealed record FindingEventDto(DateTime At, FindingEventKind Kind, long? RunId, PortState? State, string? Service, string? Product, string? Version, string? Detail)
{
    public static FindingEventDto From(FindingEvent e) => new(e.At, e.Kind, e.ScanRunId, e.State, e.ServiceName, e.Product, e.Version, e.Detail);
}

/// <summary>One finding with its discussion, tickets and history (newest first, at most 500 events).</summary>
/// <param name="DetectedBy">How it was first found: scan, sentinel, flow, recovery, import (unknown once that run is gone).</param>
public sealed record FindingDetailDto(FindingDto Finding, IReadOnlyList<CommentDto> Comments, IReadOnlyList<TicketDto> Tickets, IReadOnlyList<FindingEventDto> History,
    string DetectedBy, long? DetectedInRun);

public sealed record CommentRequest(string Text);

public sealed record AssignRequest(List<long> Ids, string? Assignee, bool Notify);

public sealed record TicketRequest(List<long> Ids, string System);

public sealed record TriageRequest(List<long> Ids, string Action, string? Note, Severity? Severity, string? Assignee, ExceptionFromFindingsRequest? Exception);

public sealed record CreateTokenRequest(string Name, DateTime? ExpiresAt);

public sealed record CreatedToken(string Token, ApiTokenInfo Info);
