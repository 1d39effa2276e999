namespace PortWatch.Web.Data.Entities;

/// <summary>One digest sent (or being retried) to one channel for one run.</summary>
public class AlertDelivery
{
    public long Id { get; set; }

    /// <summary>The run the digest is about; null for a channel test.</summary>
    public long? ScanRunId { get; set; }

    public int AlertChannelId { get; set; }

    public AlertChannel? AlertChannel { get; set; }

    public DateTime CreatedAt { get; set; }

    public AlertDeliveryStatus Status { get; set; }

    public int Attempts { get; set; }

    public DateTime? LastAttemptAt { get; set; }

    /// <summary>When the next retry is due while <see cref="Status"/> is Pending.</summary>
    public DateTime? NextAttemptAt { get; set; }

    public DateTime? SentAt { get; set; }

    public string? LastError { get; set; }

    public required string Subject { get; set; }

    public int FindingCount { get; set; }

    /// <summary>The digest as JSON (<c>AlertDigest</c>); each channel formats it when sending.</summary>
    public required string Digest { get; set; }
}
