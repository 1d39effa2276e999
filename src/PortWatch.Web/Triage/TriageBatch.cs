using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>One address of the run as stored, with the service detection found there (if any).</summary>
internal sealed record ObservedPort(long Id, string AddressKey, int Port, TransportProtocol Protocol, PortState State,
    bool HasService, string? ServiceName, string? Product, string? Version);

/// <summary>What the triage of one batch of addresses starts from: the run's open ports there, the findings already
/// known there, and which of the addresses an earlier complete scan has baselined.</summary>
internal sealed record TriageBatchRead(List<string> Keys, List<ObservedPort> Observations, List<Finding> Findings, HashSet<string> Baselined)
{
    /// <summary>Reads one batch's rows on a thread-pool thread (SQLite's calls complete synchronously, so awaiting them would not overlap).</summary>
    public static Task<TriageBatchRead> ReadAheadAsync(PortWatchDbContext reader, long runId, string[] batch, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            var keys = batch.ToList();
            var observations = await reader.PortObservations.AsNoTracking()
                .Where(o => o.ScanRunId == runId && keys.Contains(o.AddressKey))
                .Select(o => new ObservedPort(o.Id, o.AddressKey, o.Port, o.Protocol, o.State, o.Service != null,
                    o.Service != null ? o.Service.Name : null, o.Service != null ? o.Service.Product : null, o.Service != null ? o.Service.Version : null))
                .ToListAsync(cancellationToken);
            var findings = await reader.Findings.AsNoTracking().Where(f => keys.Contains(f.AddressKey)).ToListAsync(cancellationToken);
            var baselined = (await reader.ScanTargetCoverage.AsNoTracking()
                    .Where(c => keys.Contains(c.AddressKey) && c.ScanRunId != runId && c.Status == TargetCoverageStatus.Complete)
                    .Select(c => c.AddressKey).Distinct().ToListAsync(cancellationToken)).ToHashSet();
            return new TriageBatchRead(keys, observations, findings, baselined);
        }, cancellationToken);
}

/// <summary>
/// The findings of one batch of addresses: the known ones (loaded and tracked) by key, the new
/// ones and every event in lists, written in bulk by <see cref="SaveAsync"/>. A run or an
/// import with hundreds of thousands of new ports spent most of its time in the change tracker
/// (temporary keys and relationship fix-up for each new row) and in SaveChanges' per-row inserts.
/// </summary>
internal sealed class TriageBatch(List<Finding> known)
{
    private readonly Dictionary<(string, int, TransportProtocol, FindingKind), Finding> byKey =
        known.ToDictionary(f => (f.AddressKey, f.Port, f.Protocol, f.Kind));

    public List<Finding> Added { get; } = [];

    public List<FindingEvent> Events { get; } = [];

    public List<Finding> Touched => [.. byKey.Values];

    public void Record(FindingEvent e) => Events.Add(e);

    public Finding Upsert(string key, string address, int port, TransportProtocol protocol, FindingKind kind, out bool isNew)
    {
        isNew = false;
        if (byKey.TryGetValue((key, port, protocol, kind), out var finding))
            return finding;
        isNew = true;
        finding = new Finding { Address = address, AddressKey = key, Port = port, Protocol = protocol, Kind = kind, Status = TriageStatus.Unreviewed };
        Added.Add(finding);
        byKey[(key, port, protocol, kind)] = finding;
        return finding;
    }

    /// <summary>
    /// Writes one batch: the known findings' changes (<see cref="BulkUpdate"/>); new findings and all
    /// events in bulk. New findings get their ids as they are inserted (SQLite) or read back by their
    /// unique key, and their events then refer to them.
    /// </summary>
    public async Task SaveAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        db.ChangeTracker.DetectChanges(); // over the loaded findings only: nothing else is tracked
        await BulkUpdate.SaveModifiedAsync(db, cancellationToken);
        db.ChangeTracker.Clear();
        if (Added.Count > 0)
        {
            await BulkInsert.InsertAsync(db, Added, cancellationToken, (finding, id) => finding.Id = id);
            var unkeyed = Added.Where(f => f.Id == 0).ToList();
            if (unkeyed.Count > 0)
            {
                var keys = unkeyed.Select(f => f.AddressKey).Distinct().ToList();
                var ids = (await db.Findings.AsNoTracking().Where(f => keys.Contains(f.AddressKey))
                        .Select(f => new { f.Id, f.AddressKey, f.Port, f.Protocol }).ToListAsync(cancellationToken))
                    .ToDictionary(f => (f.AddressKey, f.Port, f.Protocol), f => f.Id);
                foreach (var finding in unkeyed)
                    finding.Id = ids[(finding.AddressKey, finding.Port, finding.Protocol)];
            }
        }
        foreach (var e in Events)
            e.FindingId = e.Finding!.Id;
        await BulkInsert.InsertAsync(db, Events, cancellationToken);
    }
}
