namespace PortWatch.Web.Tickets;

/// <summary>A remote ticket system said no or could not be reached; the message says which, fit to show the analyst.</summary>
public sealed class TicketException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One finding as a ticket lists it; scanned text already made printable.</summary>
public sealed record TicketFinding(long Id, string Address, string Endpoint, string Service, string Severity, string Status, string? Owner, string? Assignee, string? Link);

/// <summary>What goes into one ticket: a summary line, the findings, who asked.</summary>
public sealed record TicketDraft(string Summary, IReadOnlyList<TicketFinding> Findings, string RequestedBy, string? DashboardUrl);

/// <summary>The ticket the other system made: its name for it and a link when it gave one.</summary>
public sealed record CreatedTicket(string Key, string? Url);

/// <summary>What "Create ticket" did: which system, its ticket, and how many findings now link to it.</summary>
public sealed record TicketResult(string System, string Key, string? Url, int Findings);
