namespace PortWatch.Web.Data.Entities;

/// <summary>An approved "this port is expected here", with a scope, an optional fingerprint and an expiry.</summary>
public class ExceptionRule
{
    public int Id { get; set; }

    public ExceptionScopeKind ScopeKind { get; set; }

    /// <summary>The address, CIDR or tag the rule applies to; null for <see cref="ExceptionScopeKind.Any"/>.</summary>
    public string? ScopeValue { get; set; }

    public string? RangeStart { get; set; }

    public string? RangeEnd { get; set; }

    public int PortFrom { get; set; }

    public int PortTo { get; set; }

    /// <summary>Null means both TCP and UDP.</summary>
    public TransportProtocol? Protocol { get; set; }

    /// <summary>If set, the rule applies only while the service still looks like this.</summary>
    public string? ExpectedService { get; set; }

    public string? ExpectedProduct { get; set; }

    public required string Reason { get; set; }

    public string? Approver { get; set; }

    public string? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? ExpiresAt { get; set; }

    /// <summary>Severity of the accepted risk for the findings the rule covers; null keeps the catalogue's.</summary>
    public Severity? Severity { get; set; }

    public DateTime UpdatedAt { get; set; }

    public bool Enabled { get; set; } = true;
}
