namespace PortWatch.Web.Data.Entities;

/// <summary>How completely one run covered one target address. "Not seen" means closed only where this is Complete.</summary>
public class ScanTargetCoverage
{
    public long Id { get; set; }

    public long ScanRunId { get; set; }

    public required string Address { get; set; }

    public required string AddressKey { get; set; }

    public int PortsPlanned { get; set; }

    public int PortsAnswered { get; set; }

    public TargetCoverageStatus Status { get; set; }

    public string? Note { get; set; }
}
