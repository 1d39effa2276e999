using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>
/// The exceptions and the high-risk catalogue, loaded once and applied to findings: which
/// exception (if any) makes a finding Expected, what happens when one lapses (expired, disabled,
/// deleted, or the service changed under a fingerprinted exception), and the resulting severity.
/// </summary>
public sealed class TriageRules
{
    private readonly List<ExceptionRule> exceptions;
    private readonly Dictionary<(int Port, TransportProtocol Protocol), RiskRule> catalogue;
    private readonly Dictionary<int, IReadOnlyCollection<string>> tagsByAsset = [];

    private TriageRules(List<ExceptionRule> exceptions, Dictionary<(int, TransportProtocol), RiskRule> catalogue)
    {
        this.exceptions = exceptions;
        this.catalogue = catalogue;
    }

    public IReadOnlyDictionary<(int Port, TransportProtocol Protocol), RiskRule> Catalogue => catalogue;

    public static async Task<TriageRules> LoadAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        var exceptions = await db.ExceptionRules.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var catalogue = (await db.RiskRules.AsNoTracking().ToListAsync(cancellationToken))
            .GroupBy(r => (r.Port, r.Protocol)).ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.Severity).First());
        return new TriageRules(exceptions, catalogue);
    }

    /// <summary>Loads the tags of the findings' assets (tag-scoped exceptions need them).</summary>
    public async Task PrepareAsync(PortWatchDbContext db, IEnumerable<Finding> findings, CancellationToken cancellationToken)
    {
        var missing = findings.Where(f => f.AssetId is not null).Select(f => f.AssetId!.Value).Distinct().Where(id => !tagsByAsset.ContainsKey(id)).ToList();
        if (missing.Count == 0)
            return;
        var assets = await db.Assets.AsNoTracking().Where(a => missing.Contains(a.Id)).Select(a => new { a.Id, a.Tags }).ToListAsync(cancellationToken);
        foreach (var id in missing)
            tagsByAsset[id] = assets.FirstOrDefault(a => a.Id == id)?.Tags ?? [];
    }

    /// <summary>Brings the finding's exception, status and severity up to date; adds events for what changed.</summary>
    public void Apply(PortWatchDbContext db, Finding finding, long? runId, DateTime now) => Apply(e => db.FindingEvents.Add(e), finding, runId, now);

    /// <summary>As <see cref="Apply(PortWatchDbContext, Finding, long?, DateTime)"/>, handing each event to <paramref name="record"/>
    /// (a run's triage writes its events in bulk, not through the change tracker).</summary>
    public void Apply(Action<FindingEvent> record, Finding finding, long? runId, DateTime now)
    {
        IReadOnlyCollection<string> tags = finding.AssetId is { } assetId && tagsByAsset.TryGetValue(assetId, out var found) ? found : [];
        var current = finding.ExceptionRuleId is { } currentId ? exceptions.FirstOrDefault(r => r.Id == currentId) : null;
        var currentMatch = current is null ? ExceptionMatch.OutOfScope : ExceptionMatcher.Evaluate(current, finding, tags, now);
        var applied = currentMatch == ExceptionMatch.Applies
            ? current
            : exceptions.FirstOrDefault(r => ExceptionMatcher.Evaluate(r, finding, tags, now) == ExceptionMatch.Applies);

        if (finding.ExceptionRuleId is not null && applied?.Id != finding.ExceptionRuleId)
        {
            var why = current is null ? "the exception was deleted" : ExceptionMatcher.Describe(currentMatch);
            finding.ExceptionRuleId = null;
            if (applied is null)
            {
                // The whitelist no longer vouches for it: back to the analysts.
                if (finding.Status == TriageStatus.Expected)
                    finding.Status = TriageStatus.Unreviewed;
                if (currentMatch == ExceptionMatch.ServiceMismatch)
                    finding.Flags |= FindingFlags.ExceptionMismatch;
                record(NewEvent(finding, runId, now, FindingEventKind.ExceptionLapsed, $"exception #{current?.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}: {why}"));
            }
        }
        if (applied is not null && finding.ExceptionRuleId != applied.Id && finding.Status is TriageStatus.Unreviewed or TriageStatus.Expected)
        {
            finding.Status = TriageStatus.Expected;
            finding.ExceptionRuleId = applied.Id;
            finding.Flags &= ~FindingFlags.ExceptionMismatch;
            record(NewEvent(finding, runId, now, FindingEventKind.ExceptionApplied, $"exception #{applied.Id}: {applied.Reason}"));
        }
        var severity = SeverityPolicy.For(finding, finding.ExceptionRuleId == applied?.Id ? applied : null, catalogue);
        if (finding.Severity != severity)
        {
            finding.Severity = severity;
            finding.UpdatedAt = now;
        }
    }

    public static FindingEvent AddEvent(PortWatchDbContext db, Finding finding, long? runId, DateTime now, FindingEventKind kind, string? detail = null)
    {
        var entry = NewEvent(finding, runId, now, kind, detail);
        db.FindingEvents.Add(entry);
        return entry;
    }

    /// <summary>An event about the finding as it is now (state and service); the finding counts as updated.</summary>
    public static FindingEvent NewEvent(Finding finding, long? runId, DateTime now, FindingEventKind kind, string? detail = null)
    {
        var entry = new FindingEvent
        {
            Finding = finding,
            FindingId = finding.Id,
            ScanRunId = runId,
            At = now,
            Kind = kind,
            State = finding.CurrentState,
            ServiceName = finding.ServiceName,
            Product = finding.Product,
            Version = finding.Version,
            Detail = detail is { Length: > 1000 } ? detail[..1000] : detail,
        };
        finding.UpdatedAt = now;
        return entry;
    }

    /// <summary>Applies the current rules to every finding the filter selects, in batches (exception edits, expiry, catalogue edits).</summary>
    public static async Task<int> ReevaluateAsync(IDbContextFactory<PortWatchDbContext> dbFactory, Func<IQueryable<Finding>, IQueryable<Finding>> filter,
        DateTime now, CancellationToken cancellationToken)
    {
        const int BatchSize = 1000;
        long after = 0;
        var changed = 0;
        TriageRules? rules = null;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            rules ??= await LoadAsync(db, cancellationToken);
            var batch = await filter(db.Findings).Where(f => f.Id > after).OrderBy(f => f.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
                return changed;
            await rules.PrepareAsync(db, batch, cancellationToken);
            foreach (var finding in batch)
                rules.Apply(db, finding, null, now);
            changed += db.ChangeTracker.Entries<Finding>().Count(e => e.State == EntityState.Modified);
            await db.SaveChangesAsync(cancellationToken);
            after = batch[^1].Id;
        }
    }
}
