namespace PortWatch.Web.Data.Entities;

public enum AssetSourceKind
{
    /// <summary>A URL returning JSON or CSV (a CMDB, a script's output).</summary>
    Http = 0,
    /// <summary>Elastic IPs, instances' public addresses and network interfaces' public addresses in AWS regions.</summary>
    Aws = 1,
    /// <summary>Host names resolved (A and AAAA) at each sync.</summary>
    Dns = 2,
}

public enum AssetSyncStatus
{
    /// <summary>The diff was applied.</summary>
    Applied = 0,
    /// <summary>It would retire more than the source's share; nothing changed until an admin confirms.</summary>
    Held = 1,
    /// <summary>The source failed (network, HTTP, malformed or empty answer); nothing changed.</summary>
    Failed = 2,
    /// <summary>A held sync an admin confirmed, then applied.</summary>
    Confirmed = 3,
    /// <summary>A held sync that a later sync replaced before anyone confirmed it.</summary>
    Superseded = 4,
}

/// <summary>
/// A place PortWatch pulls assets from, on a cron schedule and on demand. Each sync is a diff
/// against the assets this source claims (<see cref="AssetClaim"/>); a source never retires an
/// asset that another source or a person also holds.
/// </summary>
public class AssetSource
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public AssetSourceKind Kind { get; set; }

    /// <summary>Quartz cron (UTC); empty: only on demand.</summary>
    public string? CronExpression { get; set; }

    /// <summary>The kind's settings as JSON, without secrets.</summary>
    public string Settings { get; set; } = "{}";

    /// <summary>The kind's secrets (an HTTP header, AWS keys) as JSON, protected with ASP.NET Core Data Protection; never shown again.</summary>
    public string? ProtectedSecrets { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>A sync that would retire more than this share of the source's assets is held for an admin.</summary>
    public double MaxRetireShare { get; set; } = 0.2;

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? LastSyncAt { get; set; }

    public AssetSyncStatus? LastSyncStatus { get; set; }
}

/// <summary>That a source lists an asset (with the source's own id for it). An asset several sources list has several claims.</summary>
public class AssetClaim
{
    public long Id { get; set; }

    public int AssetId { get; set; }

    public Asset? Asset { get; set; }

    public int AssetSourceId { get; set; }

    public AssetSource? AssetSource { get; set; }

    public string? ExternalId { get; set; }

    public DateTime LastSeenAt { get; set; }
}

/// <summary>One sync's report: what it added, updated, brought back, retired and rejected, or why it changed nothing.</summary>
public class AssetSourceSync
{
    public long Id { get; set; }

    public int AssetSourceId { get; set; }

    public AssetSource? AssetSource { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    public AssetSyncStatus Status { get; set; }

    /// <summary>Who asked: a user, "schedule", or the admin who confirmed a held sync.</summary>
    public string? RequestedBy { get; set; }

    public int Added { get; set; }

    public int Updated { get; set; }

    public int Unretired { get; set; }

    public int Retired { get; set; }

    public int Unchanged { get; set; }

    /// <summary>JSON list of {entry, reason}; at most a few hundred, the count is <see cref="RejectedCount"/>.</summary>
    public string Rejected { get; set; } = "[]";

    public int RejectedCount { get; set; }

    /// <summary>JSON list of the targets it retired or would retire (a held sync), at most a few hundred.</summary>
    public string RetiredTargets { get; set; } = "[]";

    public string? Error { get; set; }

    /// <summary>A held sync's entries as read, applied as they were if an admin confirms.</summary>
    public string? HeldEntries { get; set; }
}
