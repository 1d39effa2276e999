namespace PortWatch.Web.Data.Entities;

/// <summary>An entry of the high-risk port catalogue.</summary>
public class RiskRule
{
    public int Id { get; set; }

    public int Port { get; set; }

    public TransportProtocol Protocol { get; set; }

    public required string Name { get; set; }

    public Severity Severity { get; set; }

    public string? Description { get; set; }
}
