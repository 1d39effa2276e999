using PortWatch.Scanning;
using PortWatch.Web.Data.Entities;
using Radzen;

namespace PortWatch.Web.Components.Shared;

/// <summary>How values look in the UI. Scanned text always goes through <see cref="Scanned"/> (Razor then HTML-encodes it).</summary>
public static class Display
{
    /// <summary>Attacker-controlled text made printable: control and bidi characters shown as \xHH escapes, length bounded.</summary>
    public static string Scanned(string? text, int max = 200) => SafeText.ForTerminal(text, max);

    public static BadgeStyle SeverityStyle(Severity severity) => severity switch
    {
        Severity.Critical => BadgeStyle.Danger,
        Severity.High => BadgeStyle.Warning,
        Severity.Medium => BadgeStyle.Info,
        Severity.Low => BadgeStyle.Secondary,
        _ => BadgeStyle.Light,
    };

    public static BadgeStyle StatusStyle(TriageStatus status) => status switch
    {
        TriageStatus.Abnormal => BadgeStyle.Danger,
        TriageStatus.Expected => BadgeStyle.Success,
        TriageStatus.Resolved => BadgeStyle.Secondary,
        _ => BadgeStyle.Info,
    };

    public static BadgeStyle RunStyle(ScanRunStatus status) => status switch
    {
        ScanRunStatus.Completed => BadgeStyle.Success,
        ScanRunStatus.Failed => BadgeStyle.Danger,
        ScanRunStatus.Cancelled => BadgeStyle.Warning,
        ScanRunStatus.Running => BadgeStyle.Primary,
        _ => BadgeStyle.Info,
    };

    public static BadgeStyle CoverageStyle(TargetCoverageStatus status) => status switch
    {
        TargetCoverageStatus.Complete => BadgeStyle.Success,
        TargetCoverageStatus.Lost => BadgeStyle.Danger,
        TargetCoverageStatus.Partial => BadgeStyle.Warning,
        _ => BadgeStyle.Light,
    };

    public static string Endpoint(Finding f) => f.Kind == FindingKind.HostAnomaly ? "host" : $"{f.Port}/{f.Protocol.Name()}";

    public static string Service(Finding f) =>
        f.Kind == FindingKind.HostAnomaly ? "too many open ports" : Scanned(string.Join(' ', new[] { f.ServiceName, f.Product, f.Version }.Where(s => !string.IsNullOrEmpty(s))), 120);

    /// <summary>A time left or taken: "45 s", "12 min", "2 h 05 min".</summary>
    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 90 ? $"{Math.Max(0, span.TotalSeconds):N0} s"
        : span.TotalMinutes < 90 ? $"{span.TotalMinutes:N0} min"
        : $"{(int)span.TotalHours} h {span.Minutes:00} min";

    public static string HostLink(string address) => $"/hosts/{Uri.EscapeDataString(address)}";

    /// <summary>What a finding event is called in histories and change lists.</summary>
    public static string EventLabel(FindingEventKind kind) => kind switch
    {
        FindingEventKind.New => "New open",
        FindingEventKind.Reopened => "Reopened",
        FindingEventKind.Closed => "Closed",
        FindingEventKind.ServiceChanged => "Service changed",
        FindingEventKind.CoverageLost => "Coverage lost",
        FindingEventKind.Alerted => "Alerted",
        FindingEventKind.AlertSuppressed => "Gone on re-check",
        FindingEventKind.AlertDeferred => "Alert deferred",
        FindingEventKind.ExceptionApplied => "Exception applied",
        FindingEventKind.ExceptionLapsed => "Exception lapsed",
        FindingEventKind.TriageChanged => "Triage",
        FindingEventKind.Commented => "Comment",
        FindingEventKind.TicketCreated => "Ticket",
        FindingEventKind.Unreachable => "No longer reachable",
        FindingEventKind.AssetRetired => "Asset retired",
        FindingEventKind.AssetUnretired => "Asset back",
        _ => kind.ToString(),
    };
}
