using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>
/// Where a finding's severity comes from, strongest first: an analyst's override, the accepted
/// severity of the exception covering it, the high-risk catalogue, and otherwise Info (Medium
/// for a host-level anomaly).
/// </summary>
public static class SeverityPolicy
{
    public static Severity For(Finding finding, ExceptionRule? appliedException, IReadOnlyDictionary<(int Port, TransportProtocol Protocol), RiskRule> catalogue)
    {
        if (finding.SeverityOverride is { } manual)
            return manual;
        if (appliedException?.Severity is { } accepted)
            return accepted;
        if (finding.Kind == FindingKind.HostAnomaly)
            return Severity.Medium;
        return catalogue.TryGetValue((finding.Port, finding.Protocol), out var risk) ? risk.Severity : Severity.Info;
    }
}
