namespace PortWatch.Web.Data.Entities;

/// <summary>A range the organisation may scan, added by an admin in Settings (on top of Scanning:AllowedScope).</summary>
public class ScopeEntry
{
    public int Id { get; set; }

    /// <summary>Canonical range text: "203.0.113.0/24".</summary>
    public required string Range { get; set; }

    public string? Note { get; set; }

    public string? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
