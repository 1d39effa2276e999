namespace PortWatch.Web.Data.Entities;

/// <summary>A ticket that was opened for a finding in another system (Jira, a ticket webhook), with its link.</summary>
public class FindingTicket
{
    public long Id { get; set; }

    public long FindingId { get; set; }

    public Finding? Finding { get; set; }

    /// <summary>"jira" or "webhook".</summary>
    public required string System { get; set; }

    /// <summary>The other system's name for it (a Jira key such as SEC-12); the remote's text, encode when shown.</summary>
    public required string Key { get; set; }

    /// <summary>An http(s) link to the ticket, when the other system gave one.</summary>
    public string? Url { get; set; }

    public required string CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
