using PortWatch.Web.Common;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>What an analyst enters for an exception (the whitelist entry).</summary>
public sealed record ExceptionRuleInput
{
    public ExceptionScopeKind ScopeKind { get; init; }

    /// <summary>An address, a CIDR or a tag; ignored for <see cref="ExceptionScopeKind.Any"/>.</summary>
    public string? ScopeValue { get; init; }

    public int PortFrom { get; init; }

    public int PortTo { get; init; }

    /// <summary>Null: TCP and UDP.</summary>
    public TransportProtocol? Protocol { get; init; }

    public string? ExpectedService { get; init; }

    public string? ExpectedProduct { get; init; }

    public string Reason { get; init; } = "";

    public string? Approver { get; init; }

    public DateTime? ExpiresAt { get; init; }

    public Severity? Severity { get; init; }

    public bool Enabled { get; init; } = true;
}

/// <summary>
/// Creates, changes and deletes exceptions. Each change is audited and re-applied at once to the
/// findings it touches: a new exception makes matching Unreviewed findings Expected; a narrowed,
/// disabled or deleted one sends its findings back to Unreviewed.
/// </summary>
public sealed class ExceptionRuleService(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<ExceptionRule> CreateAsync(ExceptionRuleInput input, string user, CancellationToken cancellationToken = default)
    {
        var rule = new ExceptionRule { Reason = "", CreatedBy = user, CreatedAt = Now };
        Fill(rule, input, Now);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.ExceptionRules.Add(rule);
            await db.SaveChangesWithAuditAsync(user, "exception.create", nameof(ExceptionRule), () => rule.Id, null, () => AuditLog.Snapshot(rule), Now, cancellationToken);
        }
        await ReapplyAsync(rule, null, cancellationToken);
        return rule;
    }

    public async Task<ExceptionRule> UpdateAsync(int id, ExceptionRuleInput input, string user, CancellationToken cancellationToken = default)
    {
        ExceptionRule rule, before;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            rule = await db.ExceptionRules.SingleOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw new InputException("id", $"exception #{id} does not exist");
            before = Copy(rule);
            Fill(rule, input, Now);
            AuditLog.Record(db, user, "exception.update", nameof(ExceptionRule), rule.Id, AuditLog.Snapshot(before), AuditLog.Snapshot(rule), Now);
            await db.SaveChangesAsync(cancellationToken);
        }
        await ReapplyAsync(rule, before, cancellationToken);
        return rule;
    }

    public async Task DeleteAsync(int id, string user, CancellationToken cancellationToken = default)
    {
        ExceptionRule rule;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            rule = await db.ExceptionRules.SingleOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw new InputException("id", $"exception #{id} does not exist");
            // Findings it held go back to the analysts before the row (and the foreign key) goes.
            rule.Enabled = false;
            rule.UpdatedAt = Now;
            await db.SaveChangesAsync(cancellationToken);
        }
        await ReapplyAsync(rule, null, cancellationToken);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.ExceptionRules.Remove(await db.ExceptionRules.SingleAsync(r => r.Id == id, cancellationToken));
            AuditLog.Record(db, user, "exception.delete", nameof(ExceptionRule), id, AuditLog.Snapshot(rule), null, Now);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>Checks the input and copies it onto the rule (with the scope's address range); throws <see cref="InputException"/>.</summary>
    public static void Fill(ExceptionRule rule, ExceptionRuleInput input, DateTime now)
    {
        var errors = new InputException.Builder();
        string? scopeValue = null, start = null, end = null;
        var scope = input.ScopeValue?.Trim();
        switch (input.ScopeKind)
        {
            case ExceptionScopeKind.Any:
                break;
            case ExceptionScopeKind.Address:
                if (string.IsNullOrEmpty(scope) || !IPAddress.TryParse(scope, out var address) || scope.Contains('/', StringComparison.Ordinal))
                {
                    errors.Add(nameof(input.ScopeValue), $"'{scope}' is not an IP address");
                }
                else
                {
                    var range = IpRange.Single(address);
                    (start, end) = IpKey.From(range);
                    scopeValue = range.ToString();
                }
                break;
            case ExceptionScopeKind.Cidr:
                if (string.IsNullOrEmpty(scope) || !scope.Contains('/', StringComparison.Ordinal) || !IpRange.TryParse(scope, out var block, out var error))
                {
                    errors.Add(nameof(input.ScopeValue), $"'{scope}' is not a CIDR block such as 203.0.113.0/24");
                }
                else
                {
                    (start, end) = IpKey.From(block);
                    scopeValue = block.ToString();
                }
                break;
            case ExceptionScopeKind.Tag:
                if (string.IsNullOrEmpty(scope) || scope.Length > 100)
                    errors.Add(nameof(input.ScopeValue), "enter the asset tag (at most 100 characters)");
                scopeValue = scope;
                break;
            default:
                errors.Add(nameof(input.ScopeKind), "unknown scope");
                break;
        }
        if (input.PortFrom is < 0 or > 65535)
            errors.Add(nameof(input.PortFrom), $"port {input.PortFrom} is outside 0-65535");
        if (input.PortTo is < 0 or > 65535)
            errors.Add(nameof(input.PortTo), $"port {input.PortTo} is outside 0-65535");
        if (input.PortFrom > input.PortTo)
            errors.Add(nameof(input.PortTo), $"the range {input.PortFrom}-{input.PortTo} ends before it starts");
        if (string.IsNullOrWhiteSpace(input.Reason))
            errors.Add(nameof(input.Reason), "say why this is expected");
        else if (input.Reason.Length > 2000)
            errors.Add(nameof(input.Reason), "the reason is longer than 2000 characters");
        if (input.Approver?.Length > 256)
            errors.Add(nameof(input.Approver), "the approver is longer than 256 characters");
        if (input.ExpectedService?.Length > 100)
            errors.Add(nameof(input.ExpectedService), "the expected service is longer than 100 characters");
        if (input.ExpectedProduct?.Length > 200)
            errors.Add(nameof(input.ExpectedProduct), "the expected product is longer than 200 characters");
        if (input.ExpiresAt is { } expires && expires.ToUniversalTime() <= now)
            errors.Add(nameof(input.ExpiresAt), "the expiry is in the past");
        errors.ThrowIfAny();

        rule.ScopeKind = input.ScopeKind;
        rule.ScopeValue = scopeValue;
        rule.RangeStart = start;
        rule.RangeEnd = end;
        rule.PortFrom = input.PortFrom;
        rule.PortTo = input.PortTo;
        rule.Protocol = input.Protocol;
        rule.ExpectedService = Blank(input.ExpectedService);
        rule.ExpectedProduct = Blank(input.ExpectedProduct);
        rule.Reason = input.Reason.Trim();
        rule.Approver = Blank(input.Approver);
        rule.ExpiresAt = input.ExpiresAt?.ToUniversalTime();
        rule.Severity = input.Severity;
        rule.Enabled = input.Enabled;
        rule.UpdatedAt = now;
    }

    /// <summary>Re-applies the rules to the findings the exception covered or now covers.</summary>
    private async Task ReapplyAsync(ExceptionRule rule, ExceptionRule? before, CancellationToken cancellationToken)
    {
        await TriageRules.ReevaluateAsync(dbFactory, q => Candidates(q, rule), Now, cancellationToken);
        if (before is not null)
            await TriageRules.ReevaluateAsync(dbFactory, q => Candidates(q, before), Now, cancellationToken);
    }

    private static IQueryable<Finding> Candidates(IQueryable<Finding> findings, ExceptionRule rule)
    {
        var id = rule.Id;
        var from = rule.PortFrom;
        var to = rule.PortTo;
        var protocol = rule.Protocol;
        var inPorts = findings.Where(f => f.ExceptionRuleId == id
            || ((f.Status == TriageStatus.Unreviewed || f.Status == TriageStatus.Expected) && f.Port >= from && f.Port <= to && (protocol == null || f.Protocol == protocol)));
        if (rule.ScopeKind is ExceptionScopeKind.Address or ExceptionScopeKind.Cidr && rule.RangeStart is { } start && rule.RangeEnd is { } end)
            return inPorts.Where(f => f.ExceptionRuleId == id || (string.Compare(f.AddressKey, start) >= 0 && string.Compare(f.AddressKey, end) <= 0));
        return inPorts;
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static ExceptionRule Copy(ExceptionRule r) => new()
    {
        Id = r.Id, ScopeKind = r.ScopeKind, ScopeValue = r.ScopeValue, RangeStart = r.RangeStart, RangeEnd = r.RangeEnd, PortFrom = r.PortFrom, PortTo = r.PortTo,
        Protocol = r.Protocol, ExpectedService = r.ExpectedService, ExpectedProduct = r.ExpectedProduct, Reason = r.Reason, Approver = r.Approver,
        CreatedBy = r.CreatedBy, CreatedAt = r.CreatedAt, ExpiresAt = r.ExpiresAt, Severity = r.Severity, Enabled = r.Enabled, UpdatedAt = r.UpdatedAt,
    };
}
