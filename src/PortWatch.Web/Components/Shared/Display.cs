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

    public static string Time(DateTime? utc) => utc is { } t ? t.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC" : "";

    public static string HostLink(string address) => $"/hosts/{Uri.EscapeDataString(address)}";
}
