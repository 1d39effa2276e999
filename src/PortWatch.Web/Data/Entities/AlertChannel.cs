namespace PortWatch.Web.Data.Entities;

public class AlertChannel
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public AlertChannelKind Kind { get; set; }

    /// <summary>Webhook URL, or comma-separated e-mail recipients.</summary>
    public required string Target { get; set; }

    public Severity MinimumSeverity { get; set; } = Severity.High;

    public bool Enabled { get; set; } = true;

    public DateTime CreatedAt { get; set; }
}
