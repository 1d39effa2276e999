using System.Net.Mail;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Alerts;
using PortWatch.Web.Components.Shared;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;

namespace PortWatch.Web.Triage;

/// <summary>Tells a user by e-mail that findings were assigned to them (plain text; scanned text made printable).</summary>
public sealed class AssignmentNotifier(IDbContextFactory<PortWatchDbContext> dbFactory, IOptions<SmtpOptions> smtp, IOptions<AlertOptions> alerts,
    ILogger<AssignmentNotifier> log)
{
    private const int MaxListed = 50;

    /// <summary>Null when the mail went out; otherwise why it did not, in words for the analyst who assigned.</summary>
    public async Task<string?> NotifyAsync(string assignee, string assignedBy, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(smtp.Value.Host))
            return "no mail server is configured (Smtp:Host), so nobody was e-mailed";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var email = await db.Users.Where(u => u.UserName == assignee).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(email) || !MailAddress.TryCreate(email, out var address))
            return $"{assignee} has no e-mail address, so was not e-mailed";
        var listed = ids.Take(MaxListed).ToList();
        var findings = await db.Findings.AsNoTracking().Where(f => listed.Contains(f.Id)).OrderBy(f => f.AddressKey).ThenBy(f => f.Port).ToListAsync(cancellationToken);
        var baseUrl = alerts.Value.DashboardUrl?.TrimEnd('/');
        var body = new StringBuilder();
        body.Append(assignedBy).Append(" assigned ").Append(ids.Count).Append(" finding(s) to you in PortWatch:\n\n");
        foreach (var f in findings)
        {
            body.Append("- ").Append(f.Address).Append(' ').Append(Display.Endpoint(f)).Append("  ").Append(Display.Service(f))
                .Append("  (").Append(f.Severity).Append(", ").Append(f.Status).Append(')');
            if (baseUrl is not null)
                body.Append("\n  ").Append(baseUrl).Append("/findings/").Append(f.Id);
            body.Append('\n');
        }
        if (ids.Count > listed.Count)
            body.Append("… and ").Append(ids.Count - listed.Count).Append(" more.\n");
        if (baseUrl is not null)
            body.Append("\nAll of yours: ").Append(baseUrl).Append("/findings?quick=Mine\n");
        try
        {
            await SmtpMail.SendAsync(smtp.Value, [address], $"[PortWatch] {ids.Count} finding(s) assigned to you by {assignedBy}", body.ToString(), cancellationToken);
            return null;
        }
        catch (AlertDeliveryException ex)
        {
            log.LogWarning("Assignment mail to {Assignee} failed: {Reason}", assignee, ex.Message);
            return $"the e-mail to {assignee} failed: {ex.Message}";
        }
    }
}
