namespace PortWatch.Web.Data.Entities;

/// <summary>The durable identity of address+port+protocol across runs, and what the analysts decided about it.</summary>
public class Finding
{
    public long Id { get; set; }

    public required string Address { get; set; }

    public required string AddressKey { get; set; }

    public int Port { get; set; }

    public TransportProtocol Protocol { get; set; } = TransportProtocol.Tcp;

    public int? AssetId { get; set; }

    public Asset? Asset { get; set; }

    public DateTime FirstSeenAt { get; set; }

    public DateTime LastSeenAt { get; set; }

    public PortState CurrentState { get; set; }

    public string? ServiceName { get; set; }

    public string? Product { get; set; }

    public string? Version { get; set; }

    public long? LastRunId { get; set; }

    public long? LastObservationId { get; set; }

    public TriageStatus Status { get; set; } = TriageStatus.Unreviewed;

    public Severity Severity { get; set; } = Severity.Info;

    public string? Assignee { get; set; }

    public string? Notes { get; set; }

    /// <summary>Set by an analyst ("mark abnormal"); wins over the catalogue and exceptions.</summary>
    public Severity? SeverityOverride { get; set; }

    /// <summary>A port, or one host-level finding standing for a host that shows too many open ports.</summary>
    public FindingKind Kind { get; set; } = FindingKind.Port;

    /// <summary>Things an analyst should look at: a changed service, an exception that stopped matching, the scanner's own address.</summary>
    public FindingFlags Flags { get; set; }

    /// <summary>State and service as last alerted (or baselined); an unchanged finding is never alerted twice.</summary>
    public string? AlertFingerprint { get; set; }

    public DateTime? LastAlertedAt { get; set; }

    /// <summary>The exception that makes this finding Expected, while it applies.</summary>
    public int? ExceptionRuleId { get; set; }

    public ExceptionRule? ExceptionRule { get; set; }

    public DateTime UpdatedAt { get; set; }
}
