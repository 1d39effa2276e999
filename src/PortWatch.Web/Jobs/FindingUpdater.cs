using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Jobs;

/// <summary>
/// Brings findings up to date with a run: one finding per address+port+protocol, created when
/// first seen, refreshed when seen again (a resolved one is reopened), and marked closed only on
/// targets the run covered completely. Triage rules (exceptions, diffs, alerts) come on top.
/// </summary>
public static class FindingUpdater
{
    private const int KeysPerQuery = 400;

    public static async Task ApplyAsync(IDbContextFactory<PortWatchDbContext> dbFactory, long runId, IReadOnlyList<string> completeTargetKeys, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var observations = await db.PortObservations.AsNoTracking().Include(o => o.Service)
            .Where(o => o.ScanRunId == runId && o.State == PortState.Open).ToListAsync(cancellationToken);
        var risks = await db.RiskRules.AsNoTracking().ToDictionaryAsync(r => (r.Port, r.Protocol), r => r.Severity, cancellationToken);
        var assetCache = new Dictionary<string, int?>();
        var seen = new HashSet<(string, int, TransportProtocol)>();

        foreach (var batch in observations.Chunk(KeysPerQuery))
        {
            var keys = batch.Select(o => o.AddressKey).Distinct().ToList();
            var existing = await db.Findings.Where(f => keys.Contains(f.AddressKey)).ToListAsync(cancellationToken);
            var byKey = existing.ToDictionary(f => (f.AddressKey, f.Port, f.Protocol));
            foreach (var o in batch)
            {
                seen.Add((o.AddressKey, o.Port, o.Protocol));
                if (!byKey.TryGetValue((o.AddressKey, o.Port, o.Protocol), out var finding))
                {
                    finding = new Finding
                    {
                        Address = o.Address,
                        AddressKey = o.AddressKey,
                        Port = o.Port,
                        Protocol = o.Protocol,
                        FirstSeenAt = o.ObservedAt,
                        Status = TriageStatus.Unreviewed,
                        Severity = risks.TryGetValue((o.Port, o.Protocol), out var severity) ? severity : Severity.Info,
                        AssetId = await AssetOfAsync(db, o.Address, assetCache, cancellationToken),
                    };
                    db.Findings.Add(finding);
                    byKey[(o.AddressKey, o.Port, o.Protocol)] = finding;
                }
                else if (finding.Status == TriageStatus.Resolved)
                {
                    finding.Status = TriageStatus.Unreviewed; // it came back
                }
                finding.LastSeenAt = o.ObservedAt;
                finding.CurrentState = PortState.Open;
                finding.LastRunId = runId;
                finding.LastObservationId = o.Id;
                finding.ServiceName = o.Service?.Name ?? finding.ServiceName;
                finding.Product = o.Service?.Product ?? finding.Product;
                finding.Version = o.Service?.Version ?? finding.Version;
                finding.UpdatedAt = now;
            }
            await db.SaveChangesAsync(cancellationToken);
        }

        // "Not seen" means closed only where this run covered the target completely.
        foreach (var batch in completeTargetKeys.Chunk(KeysPerQuery))
        {
            var stale = await db.Findings.Where(f => batch.Contains(f.AddressKey) && f.CurrentState == PortState.Open).ToListAsync(cancellationToken);
            foreach (var finding in stale.Where(f => !seen.Contains((f.AddressKey, f.Port, f.Protocol)) && f.Protocol == TransportProtocol.Tcp))
            {
                finding.CurrentState = PortState.Closed;
                finding.LastRunId = runId;
                finding.UpdatedAt = now;
            }
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static async Task<int?> AssetOfAsync(PortWatchDbContext db, string address, Dictionary<string, int?> cache, CancellationToken cancellationToken)
    {
        if (cache.TryGetValue(address, out var id))
            return id;
        id = await db.Assets.Containing(System.Net.IPAddress.Parse(address)).OrderByDescending(a => a.RangeStart).Select(a => (int?)a.Id).FirstOrDefaultAsync(cancellationToken);
        cache[address] = id;
        return id;
    }
}
