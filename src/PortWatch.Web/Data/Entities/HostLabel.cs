namespace PortWatch.Web.Data.Entities;

/// <summary>Something PortWatch learned about a host as a whole (an anti-scan trap), with the evidence; shown on the host's page.</summary>
public class HostLabel
{
    public long Id { get; set; }

    public required string Address { get; set; }

    public required string AddressKey { get; set; }

    public HostLabelKind Kind { get; set; }

    /// <summary>What was seen, in words: answers before the block, how long the block lasted, what was re-verified.</summary>
    public required string Evidence { get; set; }

    /// <summary>The run that lost the host, and the recovery run that learned this.</summary>
    public long? LostRunId { get; set; }

    public long? RecoveryRunId { get; set; }

    public DateTime FirstSetAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
