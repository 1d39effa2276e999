namespace PortWatch.Web.Data.Entities;

/// <summary>A PortWatch process that has run against this database, and when it last checked in (every few seconds while it lives).</summary>
public class ScanNode
{
    /// <summary>Machine name and process id.</summary>
    public string Id { get; set; } = "";

    public DateTime StartedAt { get; set; }

    public DateTime LastSeenAt { get; set; }
}
