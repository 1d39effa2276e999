namespace PortWatch.Web.Data.Entities;

/// <summary>
/// One change in a finding's life: what a run saw (new, closed, service changed), what an
/// analyst or a rule decided, what was alerted. A finding's events are its history; a run's
/// events are its change list.
/// </summary>
public class FindingEvent
{
    public long Id { get; set; }

    public long FindingId { get; set; }

    public Finding? Finding { get; set; }

    /// <summary>The run that caused the change; null for analysts' actions and rule changes.</summary>
    public long? ScanRunId { get; set; }

    public DateTime At { get; set; }

    public FindingEventKind Kind { get; set; }

    /// <summary>The finding's state and service after the change (scanned text: encode when shown).</summary>
    public PortState? State { get; set; }

    public string? ServiceName { get; set; }

    public string? Product { get; set; }

    public string? Version { get; set; }

    /// <summary>Human-readable detail, e.g. "was ssh OpenSSH 8.9" or "Unreviewed → Expected by alice".</summary>
    public string? Detail { get; set; }
}
