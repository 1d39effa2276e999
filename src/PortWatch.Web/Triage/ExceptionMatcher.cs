using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

public enum ExceptionMatch
{
    Applies,
    OutOfScope,
    Disabled,
    Expired,
    /// <summary>In scope, but the service on the port is not the one the exception was approved for.</summary>
    ServiceMismatch,
}

/// <summary>Whether an exception (a whitelist entry) covers a finding right now.</summary>
public static class ExceptionMatcher
{
    /// <param name="assetTags">Tags of the asset the finding belongs to (for tag-scoped rules).</param>
    public static ExceptionMatch Evaluate(ExceptionRule rule, Finding finding, IReadOnlyCollection<string> assetTags, DateTime now)
    {
        if (!InScope(rule, finding, assetTags))
            return ExceptionMatch.OutOfScope;
        if (!rule.Enabled)
            return ExceptionMatch.Disabled;
        if (rule.ExpiresAt is { } expires && expires <= now)
            return ExceptionMatch.Expired;
        if (!Matches(rule.ExpectedService, finding.ServiceName) || !Matches(rule.ExpectedProduct, finding.Product))
            return ExceptionMatch.ServiceMismatch;
        return ExceptionMatch.Applies;
    }

    public static bool InScope(ExceptionRule rule, Finding finding, IReadOnlyCollection<string> assetTags)
    {
        if (finding.Port < rule.PortFrom || finding.Port > rule.PortTo)
            return false;
        if (rule.Protocol is { } protocol && protocol != finding.Protocol)
            return false;
        return rule.ScopeKind switch
        {
            ExceptionScopeKind.Any => true,
            ExceptionScopeKind.Address or ExceptionScopeKind.Cidr =>
                rule.RangeStart is not null && rule.RangeEnd is not null
                && string.CompareOrdinal(finding.AddressKey, rule.RangeStart) >= 0
                && string.CompareOrdinal(finding.AddressKey, rule.RangeEnd) <= 0,
            ExceptionScopeKind.Tag => rule.ScopeValue is { } tag && assetTags.Contains(tag, StringComparer.OrdinalIgnoreCase),
            _ => false,
        };
    }

    /// <summary>An unset expectation matches anything; a set one needs the same text (case aside). Unknown never matches a set one.</summary>
    private static bool Matches(string? expected, string? actual) =>
        string.IsNullOrWhiteSpace(expected) || string.Equals(expected.Trim(), actual?.Trim(), StringComparison.OrdinalIgnoreCase);

    public static string Describe(ExceptionMatch match) => match switch
    {
        ExceptionMatch.Disabled => "the exception was disabled",
        ExceptionMatch.Expired => "the exception expired",
        ExceptionMatch.ServiceMismatch => "the service no longer matches the exception",
        ExceptionMatch.OutOfScope => "the exception no longer covers it",
        _ => "the exception applies",
    };
}
