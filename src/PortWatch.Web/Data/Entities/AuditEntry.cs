namespace PortWatch.Web.Data.Entities;

/// <summary>Who changed what, when, and what it looked like before and after (JSON).</summary>
public class AuditEntry
{
    public long Id { get; set; }

    public DateTime At { get; set; }

    public required string User { get; set; }

    /// <summary>A verb such as "asset.create", "finding.mark-expected", "exception.delete".</summary>
    public required string Action { get; set; }

    public required string EntityType { get; set; }

    public string? EntityId { get; set; }

    public string? Before { get; set; }

    public string? After { get; set; }
}
