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
    /// <summary>Assigned to the signed-in user (<see cref="FindingQuery.CurrentUser"/>).</summary>
    Mine,
    /// <summary>Open and nobody's: no assignee.</summary>
    Unassigned,
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

    /// <summary>Words that narrow the list together (<see cref="SearchHelp"/>): addresses, ports, field:value and plain text.</summary>
    public string? Search { get; init; }

    public TriageStatus? Status { get; init; }

    public Severity? MinimumSeverity { get; init; }

    public PortState? State { get; init; }

    public TransportProtocol? Protocol { get; init; }

    public int? AssetId { get; init; }

    /// <summary>The signed-in user, for <see cref="FindingQuickFilter.Mine"/>; without one, "mine" matches nothing.</summary>
    public string? CurrentUser { get; init; }

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
            FindingQuickFilter.Mine => CurrentUser is { } me ? findings.Where(f => f.Assignee == me) : findings.Where(f => false),
            FindingQuickFilter.Unassigned => findings.Where(f => f.Assignee == null && f.CurrentState == PortState.Open),
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
        var (terms, _) = Parse(Search);
        foreach (var term in terms)
            findings = term.Apply(findings);
        return findings;
    }

    /// <summary>The search box's syntax, for its help text.</summary>
    public const string SearchHelp = "Words narrow the list together: 203.0.113.7, 203.0.113.0/24 or a range of addresses; 22, 22/tcp, 8000-9999, 53/udp; " +
        "service:ssh, product:nginx, version:1.22, severity:high (or high+ for high and above), status:abnormal, owner:alice, tag:prod, assignee:bob; " +
        "any other word is looked for in service, product, version and assignee. Quote a phrase: product:\"Apache httpd\".";

    private static (List<SearchTerm> Terms, string? Error) Parse(string? search)
    {
        var s = search?.Trim();
        if (string.IsNullOrEmpty(s))
            return ([], null);
        if (s.Length > 200)
            return ([], "the search is longer than 200 characters");
        var terms = new List<SearchTerm>();
        foreach (var word in Words(s))
        {
            var (term, error) = ParseWord(word);
            if (error is not null)
                return ([], error);
            terms.Add(term!);
        }
        return terms.Count > 12 ? ([], "at most 12 search words") : (terms, null);
    }

    /// <summary>Words split at spaces; a double-quoted run (after a "name:" or alone) is one word.</summary>
    private static IEnumerable<string> Words(string text)
    {
        var word = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                continue;
            }
            if (c == ' ' && !quoted)
            {
                if (word.Length > 0)
                    yield return word.ToString();
                word.Clear();
                continue;
            }
            word.Append(c);
        }
        if (word.Length > 0)
            yield return word.ToString();
    }

    private static (SearchTerm? Term, string? Error) ParseWord(string word)
    {
        var colon = word.IndexOf(':', StringComparison.Ordinal);
        // Every field name has a letter no hexadecimal digit is, so "name:" never reads an IPv6 address (dead:beef::1) as a field.
        if (colon > 0 && word[..colon].All(char.IsAsciiLetter) && word[..colon].Any(c => !char.IsAsciiHexDigit(c)))
        {
            var name = word[..colon].ToLowerInvariant();
            var value = word[(colon + 1)..];
            if (value.Length == 0)
                return (null, $"'{name}:' needs a value");
            return name switch
            {
                "service" => (new TextTerm(value, TextField.Service), null),
                "product" => (new TextTerm(value, TextField.Product), null),
                "version" => (new TextTerm(value, TextField.Version), null),
                "assignee" => (new TextTerm(value, TextField.Assignee), null),
                "owner" => (new TextTerm(value, TextField.Owner), null),
                "tag" => (new TagTerm(value), null),
                "severity" => ParseSeverity(value),
                "status" => Enum.TryParse<TriageStatus>(value, ignoreCase: true, out var status) && Enum.IsDefined(status) && !int.TryParse(value, out _)
                    ? (new StatusTerm(status), null)
                    : (null, $"status '{value}' is not one of {string.Join(", ", Enum.GetNames<TriageStatus>()).ToLowerInvariant()}"),
                _ => (null, $"'{name}:' is not a search field (service, product, version, severity, status, owner, tag, assignee)"),
            };
        }
        // 22, 22/tcp, 8000-9999, 8000-9999/udp
        var slash = word.IndexOf('/', StringComparison.Ordinal);
        var portPart = slash > 0 && word[(slash + 1)..].ToLowerInvariant() is "tcp" or "udp" ? word[..slash] : word;
        TransportProtocol? protocol = portPart.Length == word.Length ? null : word[(slash + 1)..].Equals("udp", StringComparison.OrdinalIgnoreCase) ? TransportProtocol.Udp : TransportProtocol.Tcp;
        var dash = portPart.IndexOf('-', StringComparison.Ordinal);
        if (portPart.All(c => char.IsAsciiDigit(c) || c == '-') && portPart.Length > 0 && portPart.Count(c => c == '-') <= 1 && dash != 0 && dash != portPart.Length - 1)
        {
            var low = int.Parse(dash < 0 ? portPart : portPart[..dash], NumberStyles.None, CultureInfo.InvariantCulture);
            var high = dash < 0 ? low : int.Parse(portPart[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
            if (low > 65535 || high > 65535)
                return (null, $"port {Math.Max(low, high)} is outside 0-65535");
            if (low > high)
                return (null, $"port range {low}-{high} runs backwards");
            return (new PortTerm(low, high, protocol), null);
        }
        if (IPAddress.TryParse(word, out _) || (word.Any(char.IsDigit) && (word.Contains('/', StringComparison.Ordinal) || word.Contains('-', StringComparison.Ordinal))
                && (word.Contains('.', StringComparison.Ordinal) || word.Contains(':', StringComparison.Ordinal))))
        {
            return IpRange.TryParse(word, out var range, out var error) ? (new RangeTerm(range), null) : (null, error);
        }
        return (new TextTerm(word, null), null);
    }

    private static (SearchTerm? Term, string? Error) ParseSeverity(string value)
    {
        var orAbove = value.EndsWith('+');
        var name = orAbove ? value[..^1] : value;
        return Enum.TryParse<Severity>(name, ignoreCase: true, out var severity) && Enum.IsDefined(severity) && !int.TryParse(name, out _)
            ? (new SeverityTerm(severity, orAbove), null)
            : (null, $"severity '{value}' is not one of {string.Join(", ", Enum.GetNames<Severity>()).ToLowerInvariant()} (add + for that and above)");
    }

    private enum TextField { Service, Product, Version, Assignee, Owner }

    /// <summary>One word of the search, as a condition the database evaluates.</summary>
    private abstract record SearchTerm
    {
        public abstract IQueryable<Finding> Apply(IQueryable<Finding> findings);
    }

    private sealed record PortTerm(int Low, int High, TransportProtocol? Protocol) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings)
        {
            findings = Low == High ? findings.Where(f => f.Port == Low) : findings.Where(f => f.Port >= Low && f.Port <= High);
            return Protocol is { } protocol ? findings.Where(f => f.Protocol == protocol) : findings;
        }
    }

    private sealed record RangeTerm(IpRange Range) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings) => findings.Within(Range);
    }

    private sealed record SeverityTerm(Severity Severity, bool OrAbove) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings) =>
            OrAbove ? findings.Where(f => f.Severity >= Severity) : findings.Where(f => f.Severity == Severity);
    }

    private sealed record StatusTerm(TriageStatus Status) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings) => findings.Where(f => f.Status == Status);
    }

    private sealed record TagTerm(string Tag) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings) => findings.Where(f => f.Asset != null && f.Asset.Tags.Contains(Tag));
    }

    private sealed record TextTerm(string Text, TextField? Field) : SearchTerm
    {
        public override IQueryable<Finding> Apply(IQueryable<Finding> findings)
        {
            // Lower-cased on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not; the search should behave the same on both.
            var pattern = $"%{Text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal)}%";
            return Field switch
            {
                TextField.Service => findings.Where(f => EF.Functions.Like(f.ServiceName!.ToLower(), pattern, "\\")),
                TextField.Product => findings.Where(f => EF.Functions.Like(f.Product!.ToLower(), pattern, "\\")),
                TextField.Version => findings.Where(f => EF.Functions.Like(f.Version!.ToLower(), pattern, "\\")),
                TextField.Assignee => findings.Where(f => EF.Functions.Like(f.Assignee!.ToLower(), pattern, "\\")),
                TextField.Owner => findings.Where(f => f.Asset != null && EF.Functions.Like(f.Asset.Owner!.ToLower(), pattern, "\\")),
                _ => findings.Where(f => EF.Functions.Like(f.ServiceName!.ToLower(), pattern, "\\") || EF.Functions.Like(f.Product!.ToLower(), pattern, "\\")
                    || EF.Functions.Like(f.Version!.ToLower(), pattern, "\\") || EF.Functions.Like(f.Assignee!.ToLower(), pattern, "\\")),
            };
        }
    }
}
