using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>The quick filters of the findings grid (and the API's <c>quick=</c>).</summary>
public enum FindingQuickFilter
{
    All,
    /// <summary>First seen in the last seven days and open.</summary>
    New,
    Unreviewed,
    Abnormal,
    /// <summary>Severity High or Critical, open.</summary>
    HighRisk,
    /// <summary>The service changed or an exception stopped matching.</summary>
    ChangedService,
}

/// <summary>
/// One filter for findings, shared by the grid, the API and the exports so they always agree.
/// Every condition runs in the database on indexed columns where it can (status, severity,
/// state, last seen, address key range, port).
/// </summary>
public sealed record FindingQuery
{
    public static readonly TimeSpan NewWindow = TimeSpan.FromDays(7);

    public FindingQuickFilter Quick { get; init; }

    /// <summary>An address or CIDR, a port number, or text found in service, product or version.</summary>
    public string? Search { get; init; }

    public TriageStatus? Status { get; init; }

    public Severity? MinimumSeverity { get; init; }

    public PortState? State { get; init; }

    public TransportProtocol? Protocol { get; init; }

    public int? AssetId { get; init; }

    /// <summary>Why the search text could not be used, or null.</summary>
    public string? SearchError => Parse(Search).Error;

    public IQueryable<Finding> Apply(IQueryable<Finding> findings, DateTime now)
    {
        findings = Quick switch
        {
            FindingQuickFilter.New => findings.Where(f => f.FirstSeenAt >= now - NewWindow && f.CurrentState == PortState.Open),
            FindingQuickFilter.Unreviewed => findings.Where(f => f.Status == TriageStatus.Unreviewed),
            FindingQuickFilter.Abnormal => findings.Where(f => f.Status == TriageStatus.Abnormal),
            FindingQuickFilter.HighRisk => findings.Where(f => f.Severity >= Severity.High && f.CurrentState == PortState.Open),
            FindingQuickFilter.ChangedService => findings.Where(f => (f.Flags & (FindingFlags.ServiceChanged | FindingFlags.ExceptionMismatch)) != 0),
            _ => findings,
        };
        if (Status is { } status)
            findings = findings.Where(f => f.Status == status);
        if (MinimumSeverity is { } severity)
            findings = findings.Where(f => f.Severity >= severity);
        if (State is { } state)
            findings = findings.Where(f => f.CurrentState == state);
        if (Protocol is { } protocol)
            findings = findings.Where(f => f.Protocol == protocol);
        if (AssetId is { } assetId)
            findings = findings.Where(f => f.AssetId == assetId);
        var (range, port, text, _) = Parse(Search);
        if (range is { } r)
            findings = findings.Within(r);
        if (port is { } p)
            findings = findings.Where(f => f.Port == p);
        if (text is not null)
        {
            // Lower-cased on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not; the search should behave the same on both.
            var pattern = $"%{text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal)}%";
            findings = findings.Where(f => EF.Functions.Like(f.ServiceName!.ToLower(), pattern, "\\") || EF.Functions.Like(f.Product!.ToLower(), pattern, "\\")
                || EF.Functions.Like(f.Version!.ToLower(), pattern, "\\") || EF.Functions.Like(f.Assignee!.ToLower(), pattern, "\\"));
        }
        return findings;
    }

    private static (IpRange? Range, int? Port, string? Text, string? Error) Parse(string? search)
    {
        var s = search?.Trim();
        if (string.IsNullOrEmpty(s))
            return (null, null, null, null);
        if (s.Length > 200)
            return (null, null, null, "the search is longer than 200 characters");
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return port is >= 0 and <= 65535 ? (null, port, null, null) : (null, null, null, $"port {port} is outside 0-65535");
        if (IPAddress.TryParse(s, out _) || (s.Contains('/', StringComparison.Ordinal) && s.Any(char.IsDigit) && !s.Contains(' ', StringComparison.Ordinal)))
        {
            return IpRange.TryParse(s, out var range, out var error) ? (range, null, null, null) : (null, null, null, error);
        }
        return (null, null, s, null);
    }
}
