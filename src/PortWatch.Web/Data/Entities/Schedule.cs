namespace PortWatch.Web.Data.Entities;

public class Schedule
{
    public int Id { get; set; }

    public required string Name { get; set; }

    /// <summary>Quartz cron expression (seconds field first), e.g. "0 0 2 ? * *".</summary>
    public required string CronExpression { get; set; }

    /// <summary>IANA time zone id in which the cron expression and the window are read.</summary>
    public string TimeZoneId { get; set; } = "UTC";

    public int ScanProfileId { get; set; }

    public ScanProfile? ScanProfile { get; set; }

    public ScheduleAssetSelection AssetSelection { get; set; } = ScheduleAssetSelection.All;

    public string? AssetTag { get; set; }

    public List<int> AssetIds { get; set; } = [];

    public bool Enabled { get; set; } = true;

    /// <summary>Allowed window start (local to <see cref="TimeZoneId"/>); null means any time.</summary>
    public TimeOnly? WindowStart { get; set; }

    public TimeOnly? WindowEnd { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
