using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>Edits the high-risk port catalogue; findings on an edited port take the new severity at once.</summary>
public sealed class RiskCatalogueService(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<RiskRule> SaveAsync(RiskRule input, string user, CancellationToken cancellationToken = default)
    {
        var errors = new InputException.Builder();
        if (input.Port is < 1 or > 65535)
            errors.Add(nameof(input.Port), $"port {input.Port} is outside 1-65535");
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 100)
            errors.Add(nameof(input.Name), "enter a name of at most 100 characters");
        if (input.Description?.Length > 1000)
            errors.Add(nameof(input.Description), "the description is longer than 1000 characters");
        if (!Enum.IsDefined(input.Protocol))
            errors.Add(nameof(input.Protocol), "choose TCP or UDP");
        errors.ThrowIfAny();

        RiskRule rule;
        (int Port, TransportProtocol Protocol)? old = null;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await db.RiskRules.AnyAsync(r => r.Id != input.Id && r.Port == input.Port && r.Protocol == input.Protocol, cancellationToken))
                throw new InputException(nameof(input.Port), $"{input.Protocol} port {input.Port} is already in the catalogue");
            object? before = null;
            if (input.Id == 0)
            {
                rule = new RiskRule { Name = "" };
                db.RiskRules.Add(rule);
            }
            else
            {
                rule = await db.RiskRules.SingleOrDefaultAsync(r => r.Id == input.Id, cancellationToken) ?? throw new InputException("id", $"catalogue entry #{input.Id} does not exist");
                before = AuditLog.Snapshot(rule);
                old = (rule.Port, rule.Protocol);
            }
            rule.Port = input.Port;
            rule.Protocol = input.Protocol;
            rule.Name = input.Name.Trim();
            rule.Severity = input.Severity;
            rule.Description = string.IsNullOrWhiteSpace(input.Description) ? null : input.Description.Trim();
            await db.SaveChangesWithAuditAsync(user, input.Id == 0 ? "risk-rule.create" : "risk-rule.update", nameof(RiskRule),
                () => rule.Id, before, () => AuditLog.Snapshot(rule), Now, cancellationToken);
        }
        await ReapplyAsync(rule.Port, rule.Protocol, cancellationToken);
        if (old is { } previous && previous != (rule.Port, rule.Protocol))
            await ReapplyAsync(previous.Port, previous.Protocol, cancellationToken);
        return rule;
    }

    public async Task DeleteAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        RiskRule rule;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            rule = await db.RiskRules.SingleOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw new InputException("id", $"catalogue entry #{id} does not exist");
            db.RiskRules.Remove(rule);
            AuditLog.Record(db, user, "risk-rule.delete", nameof(RiskRule), id, AuditLog.Snapshot(rule), null, Now);
            await db.SaveChangesAsync(cancellationToken);
        }
        await ReapplyAsync(rule.Port, rule.Protocol, cancellationToken);
    }

    private Task<int> ReapplyAsync(int port, TransportProtocol protocol, CancellationToken cancellationToken) =>
        TriageRules.ReevaluateAsync(dbFactory, q => q.Where(f => f.Port == port && f.Protocol == protocol), Now, cancellationToken);
}
