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

    public int? ExceptionRuleId { get; set; }

    public ExceptionRule? ExceptionRule { get; set; }

    public DateTime UpdatedAt { get; set; }
}
