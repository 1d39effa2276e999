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
}
