namespace PortWatch.Web.Data.Entities;

/// <summary>
/// One message in a finding's discussion. Comments are append-only: nobody edits or deletes one,
/// so the thread is the record of what the team knew and decided, in order.
/// </summary>
public class FindingComment
{
    public const int MaxLength = 4000;

    public long Id { get; set; }

    public long FindingId { get; set; }

    public Finding? Finding { get; set; }

    public required string Author { get; set; }

    public DateTime At { get; set; }

    public required string Text { get; set; }
}
