using PortWatch.Web.Common;
using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>How to turn "mark expected" into exceptions: one per finding (its address, port and protocol).</summary>
public sealed record ExpectedExceptionRequest(string Reason, string? Approver, DateTime? ExpiresAt, bool BindToService, Severity? Severity = null);

/// <summary>
/// The analysts' triage actions on one or many findings: mark expected (optionally creating the
/// exceptions in the same step), mark abnormal (severity, assignee, note), resolve, reopen, assign
/// to a user, and comment. Every change is audited and becomes part of the finding's history; a
/// note given with an action is a comment in the finding's discussion, never an overwrite.
/// </summary>
public sealed class FindingTriageService(IDbContextFactory<PortWatchDbContext> dbFactory, TimeProvider clock, AssignmentNotifier notifier)
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
        }, cancellationToken, assignee);
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

    /// <summary>The severity override of one finding (null clears it).</summary>
    public Task<int> SetSeverityOverrideAsync(long id, string user, Severity? severityOverride, CancellationToken cancellationToken = default) =>
        ChangeAsync([id], user, "finding.severity", null, (_, finding) => finding.SeverityOverride = severityOverride, cancellationToken);

    /// <summary>
    /// Assigns findings to a PortWatch user (null or empty: unassigned). The assignee must be a user,
    /// so "Assigned to me" finds everything meant for them. With <paramref name="notify"/> the
    /// assignee is told by e-mail; the result says whether that mail went out, and why not.
    /// </summary>
    public async Task<AssignResult> AssignAsync(IReadOnlyCollection<long> ids, string user, string? assignee, bool notify = false, CancellationToken cancellationToken = default)
    {
        var name = string.IsNullOrWhiteSpace(assignee) ? null : assignee.Trim();
        var changed = await ChangeAsync(ids, user, "finding.assign", null, (_, finding) => finding.Assignee = name, cancellationToken, name);
        if (!notify || name is null || name == user)
            return new AssignResult(changed, null);
        return new AssignResult(changed, await notifier.NotifyAsync(name, user, ids, cancellationToken));
    }

    /// <summary>Adds a comment to a finding's discussion (append-only); the finding's notes show the latest one.</summary>
    public async Task<FindingComment> CommentAsync(long id, string user, string text, CancellationToken cancellationToken = default)
    {
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
            throw new InputException("text", "write a comment first");
        CheckText(null, trimmed);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var finding = await db.Findings.FirstOrDefaultAsync(f => f.Id == id, cancellationToken)
            ?? throw new InputException("id", "that finding no longer exists");
        var comment = AddComment(db, finding, user, trimmed);
        AuditLog.Record(db, user, "finding.comment", nameof(Finding), finding.Id, null, new { comment.Text }, Now);
        await db.SaveChangesAsync(cancellationToken);
        return comment;
    }

    private FindingComment AddComment(PortWatchDbContext db, Finding finding, string user, string text)
    {
        var comment = new FindingComment { FindingId = finding.Id, Author = user, At = Now, Text = text };
        db.FindingComments.Add(comment);
        finding.Notes = text; // the latest word, for grids, exports and the API; the thread keeps them all
        finding.UpdatedAt = Now;
        TriageRules.AddEvent(db, finding, null, Now, FindingEventKind.Commented, $"comment by {user}");
        return comment;
    }

    private async Task<int> ChangeAsync(IReadOnlyCollection<long> ids, string user, string action, string? note, Action<PortWatchDbContext, Finding> change,
        CancellationToken cancellationToken, string? assignee = null)
    {
        if (ids.Count == 0)
            throw new InputException("ids", "select at least one finding");
        if (ids.Count > MaxFindingsPerAction)
            throw new InputException("ids", $"at most {MaxFindingsPerAction} findings at once");
        CheckText(null, note);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!string.IsNullOrWhiteSpace(assignee))
        {
            var name = assignee.Trim();
            if (!await db.Users.AnyAsync(u => u.UserName == name, cancellationToken))
                throw new InputException("assignee", $"there is no user named '{Scanning.SafeText.ForTerminal(name, 100)}'");
        }
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
            var old = (finding.Status, finding.SeverityOverride, finding.Assignee);
            change(db, finding);
            // An analyst's decision acknowledges a changed service: it leaves the "Changed service" list.
            finding.Flags &= ~(FindingFlags.ServiceChanged | FindingFlags.ExceptionMismatch);
            finding.UpdatedAt = Now;
            AuditLog.Record(db, user, action, nameof(Finding), finding.Id, before, AuditLog.Snapshot(finding), Now);
            TriageRules.AddEvent(db, finding, null, Now, FindingEventKind.TriageChanged,
                DescribeChange(old, finding, user, finding.ExceptionRule is { Id: 0 }));
            if (!string.IsNullOrWhiteSpace(note))
                AddComment(db, finding, user, note.Trim());
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

    /// <summary>What an action changed, in words: "Unreviewed → Abnormal, severity High by alice", never "Abnormal → Abnormal".</summary>
    internal static string DescribeChange((TriageStatus Status, Severity? Override, string? Assignee) old, Finding now, string user, bool newException)
    {
        var parts = new List<string>();
        parts.Add(old.Status != now.Status ? $"{old.Status} → {now.Status}" : $"still {now.Status}");
        if (old.Override != now.SeverityOverride)
            parts.Add(now.SeverityOverride is { } s ? $"severity set to {s}" : "severity override removed");
        if (old.Assignee != now.Assignee)
            parts.Add(now.Assignee is { } a ? $"assigned to {a}" : "unassigned");
        if (newException)
            parts.Add("with a new exception");
        if (parts.Count == 1 && old.Status == now.Status)
            parts[0] = $"{now.Status} confirmed";
        return $"{string.Join(", ", parts)} by {user}";
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

/// <summary>How many findings an assignment changed, and why the assignee was not e-mailed (null: mailed, or not asked to).</summary>
public sealed record AssignResult(int Changed, string? MailProblem);
