using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Common;
using PortWatch.Web.Components.Shared;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Tickets;

/// <summary>
/// "Create ticket" on one or many findings: one ticket in Jira or through the ticket webhook for
/// the whole selection, then the ticket's key and link stored on every finding in it, with an event
/// in each finding's history and an audit entry. The remote call comes first: a ticket the remote
/// refused leaves no trace but the error; a ticket made but not stored (database down) is named in
/// the error, so nobody makes it twice without knowing.
/// </summary>
public sealed class TicketService(IDbContextFactory<PortWatchDbContext> dbFactory, IOptions<TicketOptions> options, IOptions<AlertOptions> alerts,
    JiraClient jira, TicketWebhookClient webhook, TimeProvider clock, ILogger<TicketService> log)
{
    public const string HttpClientName = "tickets";
    public const string Jira = "jira";
    public const string Webhook = "webhook";

    /// <summary>The systems configured (Tickets section), in the order the UI offers them.</summary>
    public IReadOnlyList<string> Systems =>
        [.. new[] { options.Value.JiraEnabled ? Jira : null, options.Value.WebhookEnabled ? Webhook : null }.OfType<string>()];

    public async Task<TicketResult> CreateAsync(IReadOnlyCollection<long> ids, string system, string user, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var target = system?.Trim().ToLowerInvariant();
        if (target is not (Jira or Webhook))
            throw new InputException("system", $"'{Scanning.SafeText.ForTerminal(system, 20)}' is not jira or webhook");
        if (target == Jira && !o.JiraEnabled)
            throw new InputException("system", "Jira is not configured (Tickets:JiraUrl, Tickets:JiraProject)");
        if (target == Webhook && !o.WebhookEnabled)
            throw new InputException("system", "no ticket webhook is configured (Tickets:WebhookUrl)");
        var distinct = (ids ?? []).Distinct().ToList();
        if (distinct.Count == 0)
            throw new InputException("ids", "select at least one finding");
        if (distinct.Count > o.MaxFindingsPerTicket)
            throw new InputException("ids", $"at most {o.MaxFindingsPerTicket} findings in one ticket (Tickets:MaxFindingsPerTicket)");

        List<Finding> findings;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            findings = await db.Findings.AsNoTracking().Include(f => f.Asset).Where(f => distinct.Contains(f.Id))
                .OrderBy(f => f.AddressKey).ThenBy(f => f.Protocol).ThenBy(f => f.Port).ToListAsync(cancellationToken);
        }
        if (findings.Count != distinct.Count)
            throw new InputException("ids", $"{distinct.Count - findings.Count} of the selected findings no longer exist");

        var draft = Draft(findings, user);
        var created = target == Jira ? await jira.CreateAsync(draft, cancellationToken) : await webhook.SendAsync(draft, cancellationToken);
        try
        {
            await StoreAsync(findings, target, created, user, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Ticket {Key} was created in {System} but could not be stored on its findings", created.Key, target);
            throw new TicketException($"{target} made ticket {created.Key}, but PortWatch could not store it on the findings ({ex.GetType().Name}); link it by hand before trying again", ex);
        }
        return new TicketResult(target, created.Key, created.Url, findings.Count);
    }

    private TicketDraft Draft(List<Finding> findings, string user)
    {
        var baseUrl = alerts.Value.DashboardUrl?.TrimEnd('/');
        var hosts = findings.Select(f => f.Address).Distinct().ToList();
        var first = findings[0];
        var summary = findings.Count == 1
            ? $"PortWatch: {Display.Endpoint(first)} open on {first.Address}{(string.IsNullOrEmpty(first.ServiceName) ? "" : $" ({Display.Scanned(first.ServiceName, 40)})")}"
            : $"PortWatch: {findings.Count} findings on {(hosts.Count == 1 ? hosts[0] : $"{hosts.Count} hosts")}";
        var listed = findings.Select(f => new TicketFinding(f.Id, f.Address, Display.Endpoint(f), Display.Service(f), f.Severity.ToString(), f.Status.ToString(),
            f.Asset?.Owner is { } owner ? Display.Scanned(owner, 100) : null, f.Assignee, baseUrl is null ? null : $"{baseUrl}/findings/{f.Id}")).ToList();
        return new TicketDraft(summary, listed, user, baseUrl);
    }

    private async Task StoreAsync(List<Finding> findings, string system, CreatedTicket created, string user, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ids = findings.Select(f => f.Id).ToList();
        var tracked = await db.Findings.Where(f => ids.Contains(f.Id)).ToListAsync(cancellationToken);
        var label = system == Jira ? "Jira" : "webhook";
        foreach (var finding in tracked)
        {
            db.FindingTickets.Add(new FindingTicket { FindingId = finding.Id, System = system, Key = created.Key, Url = created.Url, CreatedBy = user, CreatedAt = now });
            finding.UpdatedAt = now;
            TriageRules.AddEvent(db, finding, null, now, FindingEventKind.TicketCreated, $"{label} ticket {created.Key} by {user}");
        }
        AuditLog.Record(db, user, "finding.ticket", nameof(Finding), string.Join(',', ids.Take(20)) + (ids.Count > 20 ? ",…" : ""), null,
            new { System = system, created.Key, created.Url, Findings = ids.Count }, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
