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

    /// <summary>Routing: only findings on assets with this owner (case-insensitive); null: any owner.</summary>
    public string? OwnerFilter { get; set; }

    /// <summary>Routing: only findings on assets with this tag (case-insensitive); null: any tag.</summary>
    public string? TagFilter { get; set; }

    public DateTime CreatedAt { get; set; }
}
