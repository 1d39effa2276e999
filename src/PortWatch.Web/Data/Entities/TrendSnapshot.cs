namespace PortWatch.Web.Data.Entities;

/// <summary>Counts of findings at the end of a day (rewritten after each run that day), for the Overview's trend chart.</summary>
public class TrendSnapshot
{
    public int Id { get; set; }

    /// <summary>The UTC day, at midnight.</summary>
    public DateTime Day { get; set; }

    public int Open { get; set; }

    public int Abnormal { get; set; }

    public int HighRisk { get; set; }

    public int Unreviewed { get; set; }

    /// <summary>When these figures were computed (after a run, and every ten minutes).</summary>
    public DateTime RecordedAt { get; set; }

    /// <summary>The most common open ports, "port/proto count" per line: aggregating a million findings is too slow to do per page view.</summary>
    public string? TopPorts { get; set; }

    /// <summary>The most common open services, "count name" per line (scanned text: encode when shown).</summary>
    public string? TopServices { get; set; }
}
