namespace PortWatch.Web.Alerts;

/// <summary>
/// One run's alert for one channel: everything newly open and risky, confirmed. Address, port
/// and severity are ours; Service, Product, Version and Detail came from the scanned host and
/// are attacker-controlled: every channel encodes them for its format.
/// </summary>
public sealed record AlertDigest(long? RunId, string Subject, DateTime GeneratedAt, string? RunUrl, IReadOnlyList<AlertItem> Items);

public sealed record AlertItem(
    long FindingId,
    string Address,
    int Port,
    string Protocol,
    string Change,
    string Severity,
    string Status,
    string? RiskName,
    string? Service,
    string? Product,
    string? Version,
    string? Detail,
    string? Recheck,
    string? Url);
