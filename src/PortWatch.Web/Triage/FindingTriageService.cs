using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>How to turn "mark expected" into exceptions: one per finding (its address, port and protocol).</summary>
public sealed record ExpectedExceptionRequest(string Reason, string? Approver, DateTime? ExpiresAt, bool BindToService, Severity? Severity = null);

/// <summary>
/// The analysts' triage actions on one or many findings: mark expected (optionally creating the
/// exceptions in the same step), mark abnormal (severity, assignee, note), resolve, reopen, and
/// edit assignee and notes. Every change is audited and becomes part of the finding's history.
/// </summary>
public sealed class FindingTriageService(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock)
{
    public const int MaxFindingsPerAction = 10_000;

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public Task<int> MarkExpectedAsync(IReadOnlyCollection<long> ids, string user, string? note = null, ExpectedExceptionRequest? exception = null,
        CancellationToken cancellationToken = default)
    {
        if (exception is not null)
        {
            // The same checks as the exceptions page, before anything is changed.
            ExceptionRuleService.Fill(new ExceptionRule { Reason = "" },
                new ExceptionRuleInput { ScopeKind = ExceptionScopeKind.Any, PortFrom = 0, PortTo = 65535, Reason = exception.Reason, Approver = exception.Approver, ExpiresAt = exception.ExpiresAt },
                Now);
        }
        return ChangeAsync(ids, user, "finding.mark-expected", note, (db, finding) =>
        {
            finding.Status = TriageStatus.Expected;
            if (exception is null)
                return;
            var rule = new ExceptionRule { Reason = "", CreatedBy = user, CreatedAt = Now };
            ExceptionRuleService.Fill(rule, new ExceptionRuleInput
            {
                ScopeKind = ExceptionScopeKind.Address,
                ScopeValue = finding.Address,
                PortFrom = finding.Port,
                PortTo = finding.Port,
                Protocol = finding.Protocol,
                ExpectedService = exception.BindToService ? finding.ServiceName : null,
                ExpectedProduct = exception.BindToService ? finding.Product : null,
                Reason = exception.Reason,
                Approver = exception.Approver,
                ExpiresAt = exception.ExpiresAt,
                Severity = exception.Severity,
            }, Now);
            db.ExceptionRules.Add(rule);
            finding.ExceptionRule = rule;
            finding.Flags &= ~FindingFlags.ExceptionMismatch;
            AuditLog.Record(db, user, "exception.create", nameof(ExceptionRule), $"for finding {finding.Id}", null, AuditLog.Snapshot(rule), Now);
        }, cancellationToken);
    }

    public Task<int> MarkAbnormalAsync(IReadOnlyCollection<long> ids, string user, Severity? severity = null, string? assignee = null, string? note = null,
        CancellationToken cancellationToken = default)
    {
        CheckText(assignee, note);
        return ChangeAsync(ids, user, "finding.mark-abnormal", note, (_, finding) =>
        {
            finding.Status = TriageStatus.Abnormal;
            finding.ExceptionRuleId = null;
            if (severity is not null)
                finding.SeverityOverride = severity;
            if (!string.IsNullOrWhiteSpace(assignee))
                finding.Assignee = assignee.Trim();
        }, cancellationToken);
    }

    public Task<int> ResolveAsync(IReadOnlyCollection<long> ids, string user, string? note = null, CancellationToken cancellationToken = default) =>
        ChangeAsync(ids, user, "finding.resolve", note, (_, finding) =>
        {
            finding.Status = TriageStatus.Resolved;
            finding.ExceptionRuleId = null;
        }, cancellationToken);

    public Task<int> ReopenAsync(IReadOnlyCollection<long> ids, string user, string? note = null, CancellationToken cancellationToken = default) =>
        ChangeAsync(ids, user, "finding.reopen", note, (_, finding) =>
        {
            finding.Status = TriageStatus.Unreviewed;
            finding.ExceptionRuleId = null;
        }, cancellationToken);

    /// <summary>Assignee, notes and the severity override (null clears it) of one finding.</summary>
    public Task<int> UpdateAsync(long id, string user, string? assignee, string? notes, Severity? severityOverride, CancellationToken cancellationToken = default)
    {
        CheckText(assignee, notes);
        return ChangeAsync([id], user, "finding.update", null, (_, finding) =>
        {
            finding.Assignee = string.IsNullOrWhiteSpace(assignee) ? null : assignee.Trim();
            finding.Notes = string.IsNullOrWhiteSpace(notes) ? null : notes.Trim();
            finding.SeverityOverride = severityOverride;
        }, cancellationToken);
    }

    private async Task<int> ChangeAsync(IReadOnlyCollection<long> ids, string user, string action, string? note, Action<PortWatchDbContext, Finding> change,
        CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
            throw new InputException("ids", "select at least one finding");
        if (ids.Count > MaxFindingsPerAction)
            throw new InputException("ids", $"at most {MaxFindingsPerAction} findings at once");
        CheckText(null, note);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var distinct = ids.Distinct().ToList();
        var findings = new List<Finding>();
        foreach (var chunk in distinct.Chunk(500))
            findings.AddRange(await db.Findings.Where(f => chunk.Contains(f.Id)).ToListAsync(cancellationToken));
        if (findings.Count != distinct.Count)
            throw new InputException("ids", $"{distinct.Count - findings.Count} of the selected findings no longer exist");
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var finding in findings)
        {
            var before = AuditLog.Snapshot(finding);
            var oldStatus = finding.Status;
            change(db, finding);
            // An analyst's decision acknowledges a changed service: it leaves the "Changed service" list.
            finding.Flags &= ~(FindingFlags.ServiceChanged | FindingFlags.ExceptionMismatch);
            if (!string.IsNullOrWhiteSpace(note))
                finding.Notes = note.Trim();
            finding.UpdatedAt = Now;
            AuditLog.Record(db, user, action, nameof(Finding), finding.Id, before, AuditLog.Snapshot(finding), Now);
            TriageRules.AddEvent(db, finding, null, Now, FindingEventKind.TriageChanged,
                $"{oldStatus} → {finding.Status} by {user}{(finding.ExceptionRule is { Id: 0 } ? ", with a new exception" : "")}{(string.IsNullOrWhiteSpace(note) ? "" : $": {note.Trim()}")}");
        }
        await db.SaveChangesAsync(cancellationToken); // new exceptions get their ids
        // Loaded now, inside the transaction, so exceptions created by this action are among them.
        var rules = await TriageRules.LoadAsync(db, cancellationToken);
        await rules.PrepareAsync(db, findings, cancellationToken);
        foreach (var finding in findings)
            rules.Apply(db, finding, null, Now); // severity follows the decision (override, accepted exception)
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return findings.Count;
    }

    private static void CheckText(string? assignee, string? note)
    {
        var errors = new InputException.Builder();
        if (assignee?.Length > 256)
            errors.Add("assignee", "the assignee is longer than 256 characters");
        if (note?.Length > 4000)
            errors.Add("note", "the note is longer than 4000 characters");
        errors.ThrowIfAny();
    }
}
