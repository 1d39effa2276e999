namespace PortWatch.Web.Data.Entities;

/// <summary>Something the company owns and wants watched: one address or a block of them.</summary>
public class Asset
{
    public int Id { get; set; }

    public required string Name { get; set; }

    /// <summary>Canonical target text: "203.0.113.7", "203.0.113.0/28", "2001:db8::/64".</summary>
    public required string Target { get; set; }

    public IpFamily Family { get; set; }

    /// <summary>First and last address as <see cref="IpKey"/> strings, so "which assets contain X" is an indexed range query.</summary>
    public required string RangeStart { get; set; }

    public required string RangeEnd { get; set; }

    public string? Owner { get; set; }

    public List<string> Tags { get; set; } = [];

    public string? Environment { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>Where the asset came from: "manual", "import", "api", or a CMDB's name.</summary>
    public string SourceOfRecord { get; set; } = "manual";

    /// <summary>The asset's id in the source of record, so an inventory sync can upsert.</summary>
    public string? ExternalId { get; set; }

    /// <summary>Set when the sources that listed it stopped listing it: not scanned (Enabled is false) until a source lists it again.</summary>
    public DateTime? RetiredAt { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
