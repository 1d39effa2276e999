using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Triage;

/// <summary>What one run changed, in numbers (the change list itself is the run's finding events).</summary>
public sealed record RunTriageSummary(int New, int Reopened, int Closed, int ServiceChanged, int CoverageLostTargets, int AnomalousHosts);

/// <summary>
/// Brings the findings up to date with a finished run. Per target, the baseline is what earlier
/// runs established: a port open now and not before is new (or reopened); a known open port not
/// seen now is closed only where this run covered the target completely and probed that port;
/// where coverage was lost (the target stopped answering part-way) findings keep their state.
/// The first complete scan of a target is its baseline: recorded, never alerted.
/// </summary>
public sealed class RunTriageService(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<TriageOptions> options,
    ScannerAddresses scannerAddresses)
{
    private const int AddressesPerBatch = 500;

    /// <param name="mayClose">False for a cancelled or failed run: nothing it did not see may be called closed.</param>
    /// <param name="recordKept">Whether a known open port this run did not see, and may not close, gets a "coverage lost" event;
    /// an imported file that was not asked to close anything is no statement about those ports, so it records none.</param>
    /// <param name="alsoInTransaction">Written in the same transaction as the findings (the finaliser moves the run to its next phase),
    /// so the triage of a run is recorded completely, with that, or not at all.</param>
    public async Task<RunTriageSummary> ApplyRunAsync(long runId, bool mayClose, DateTime now, CancellationToken cancellationToken, bool recordKept = true,
        Func<PortWatchDbContext, Task>? alsoInTransaction = null)
    {
        ScanRun run;
        Dictionary<string, (string Address, TargetCoverageStatus Status)> targets;
        Dictionary<string, int> openCounts;
        TriageRules rules;
        AssetLocator assets;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            run = await read.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);
            targets = (await read.ScanTargetCoverage.AsNoTracking().Where(c => c.ScanRunId == runId)
                    .Select(c => new { c.AddressKey, c.Address, c.Status }).ToListAsync(cancellationToken))
                .ToDictionary(c => c.AddressKey, c => (c.Address, c.Status));
            var open = await read.PortObservations.AsNoTracking()
                .Where(o => o.ScanRunId == runId && (o.State == PortState.Open || o.State == PortState.OpenFiltered))
                .GroupBy(o => new { o.AddressKey, o.Address })
                .Select(g => new { g.Key.AddressKey, g.Key.Address, Open = g.Count(o => o.State == PortState.Open) })
                .ToListAsync(cancellationToken);
            openCounts = open.ToDictionary(o => o.AddressKey, o => o.Open);
            foreach (var o in open.Where(o => !targets.ContainsKey(o.AddressKey)))
                targets[o.AddressKey] = (o.Address, TargetCoverageStatus.Partial);
            rules = await TriageRules.LoadAsync(read, cancellationToken);
            assets = await AssetLocator.LoadAsync(read, cancellationToken);
        }
        var scanned = new ScannedPorts(run.ScannedTcpPorts, run.ScannedUdpPorts);
        var threshold = Math.Max(1, options.Value.HostAnomalyOpenPortThreshold);
        var own = scannerAddresses.Current();
        int created = 0, reopened = 0, closed = 0, changed = 0;
        var notes = new List<string>();

        // One transaction over all batches: a crash part-way leaves nothing, and the finaliser's takeover triages from scratch.
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false; // SaveBatchAsync looks for changes where there can be some
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var batch in targets.Keys.Order(StringComparer.Ordinal).Chunk(AddressesPerBatch))
        {
            db.ChangeTracker.Clear();
            var keys = batch.ToList();
            var observations = await db.PortObservations.AsNoTracking().Include(o => o.Service)
                .Where(o => o.ScanRunId == runId && keys.Contains(o.AddressKey)).ToListAsync(cancellationToken);
            var findings = await db.Findings.Where(f => keys.Contains(f.AddressKey)).ToListAsync(cancellationToken);
            var baselined = (await db.ScanTargetCoverage.AsNoTracking()
                    .Where(c => keys.Contains(c.AddressKey) && c.ScanRunId != runId && c.Status == TargetCoverageStatus.Complete)
                    .Select(c => c.AddressKey).Distinct().ToListAsync(cancellationToken)).ToHashSet();
            var byKey = findings.ToDictionary(f => (f.AddressKey, f.Port, f.Protocol, f.Kind));
            // By address, so each address looks at its own rows only (a scan over the batch per address was quadratic).
            var observationsAt = observations.ToLookup(o => o.AddressKey);
            var findingsAt = findings.ToLookup(f => f.AddressKey);

            foreach (var key in keys)
            {
                var (address, coverage) = targets[key];
                var isBaseline = !baselined.Contains(key);
                var isOwn = own.Any(r => r.Contains(IPAddress.Parse(address)));
                var seen = new HashSet<(int, TransportProtocol)>();
                var openHere = openCounts.GetValueOrDefault(key);

                if (openHere > threshold)
                {
                    // A SYN proxy, tarpit or trap answers everything: one host-level finding, not hundreds.
                    var anomaly = Upsert(db, byKey, key, address, 0, TransportProtocol.Tcp, FindingKind.HostAnomaly, out var isNew);
                    anomaly.AssetId ??= assets.Find(key);
                    var detail = $"{openHere} open ports in one run (more than {threshold}): likely a SYN proxy, tarpit or scan trap; its ports were not probed or listed one by one";
                    created += Observe(db, anomaly, runId, now, isNew, isBaseline, detail, ref reopened);
                    notes.Add($"{address}: {openHere} open ports, one host-level finding instead");
                    if (isOwn)
                        anomaly.Flags |= FindingFlags.ScannerAddress;
                    continue;
                }

                foreach (var o in observationsAt[key].Where(o => o.State == PortState.Open))
                {
                    seen.Add((o.Port, o.Protocol));
                    var finding = Upsert(db, byKey, key, address, o.Port, o.Protocol, FindingKind.Port, out var isNew);
                    finding.AssetId ??= assets.Find(key);
                    finding.LastObservationId = o.Id;
                    // "unknown" means detection learned nothing this time (a timeout, a busy service): not a change.
                    var identified = o.Service is { } s && !(s.Product is null && s.Name is null or "unknown" or "ssl/unknown") ? s : null;
                    var was = identified is not null && !isNew ? ServiceDiffers(finding, identified) : null;
                    var nameOrProductChanged = was is not null && (!SameText(finding.ServiceName, identified!.Name) || !SameText(finding.Product, identified.Product));
                    if (identified is not null || (isNew && o.Service is not null))
                        SetService(finding, identified ?? o.Service!);
                    created += Observe(db, finding, runId, now, isNew, isBaseline, null, ref reopened);
                    if (was is not null)
                    {
                        if (nameOrProductChanged)
                            finding.Flags |= FindingFlags.ServiceChanged;
                        TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.ServiceChanged, $"was {was}");
                        if (isBaseline)
                            finding.AlertFingerprint = AlertFingerprintOf(finding);
                        changed++;
                    }
                    if (isOwn)
                        finding.Flags |= FindingFlags.ScannerAddress;
                }
                foreach (var o in observationsAt[key].Where(o => o.State == PortState.OpenFiltered))
                    seen.Add((o.Port, o.Protocol)); // unknown, so not closed

                var gone = findingsAt[key].Where(f => f.CurrentState == PortState.Open && !seen.Contains((f.Port, f.Protocol))
                    && (f.Kind == FindingKind.HostAnomaly || scanned.Contains(f.Port, f.Protocol))).ToList();
                foreach (var finding in gone)
                {
                    if (coverage == TargetCoverageStatus.Complete && mayClose)
                    {
                        finding.CurrentState = PortState.Closed;
                        finding.LastRunId = runId;
                        finding.AlertFingerprint = null; // if it opens again, that is news
                        TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.Closed,
                            finding.Kind == FindingKind.HostAnomaly ? $"{openHere} open ports now" : "not open on a complete scan of the host");
                        closed++;
                    }
                    else if (recordKept)
                    {
                        TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.CoverageLost,
                            coverage == TargetCoverageStatus.Lost ? "the host stopped answering: state kept" : "the scan did not finish this host: state kept");
                    }
                }
            }
            var touched = byKey.Values.ToList();
            await rules.PrepareAsync(db, touched, cancellationToken);
            foreach (var finding in touched)
                rules.Apply(db, finding, runId, now);
            await SaveBatchAsync(db, cancellationToken);
        }

        var lost = targets.Values.Count(t => t.Status == TargetCoverageStatus.Lost);
        if (lost > 0)
            notes.Add($"coverage lost on {lost} target(s): they stopped answering part-way; their findings keep their state");
        db.ChangeTracker.Clear();
        if (notes.Count > 0)
            await AppendNotesAsync(db, runId, notes, cancellationToken);
        if (alsoInTransaction is not null)
            await alsoInTransaction(db);
        await transaction.CommitAsync(cancellationToken);
        return new RunTriageSummary(created, reopened, closed, changed, lost, targets.Keys.Count(k => openCounts.GetValueOrDefault(k) > threshold));
    }

    /// <summary>
    /// Writes one batch: changed findings through SaveChanges; new findings and all new events in
    /// bulk (a run or an import with hundreds of thousands of new ports spent most of its time in
    /// SaveChanges' per-row inserts). New findings get their ids back by their unique key, which
    /// their events then refer to.
    /// </summary>
    private static async Task SaveBatchAsync(PortWatchDbContext db, CancellationToken cancellationToken)
    {
        var added = new List<Finding>();
        var changed = new List<Finding>();
        // Each event with its finding: the navigation is all a new finding's event has until the finding has an id.
        var events = new List<(FindingEvent Event, Finding? Finding)>();
        foreach (var entry in db.ChangeTracker.Entries())
        {
            // Only loaded findings can have changed; comparing each new row with nothing (DetectChanges over the whole
            // tracker) cost more than writing it.
            if (entry.Entity is Finding && entry.State == EntityState.Unchanged)
                entry.DetectChanges();
            switch (entry.Entity, entry.State)
            {
                case (Finding f, EntityState.Added): added.Add(f); break;
                case (Finding f, EntityState.Modified): changed.Add(f); break;
                case (FindingEvent e, EntityState.Added): events.Add((e, e.Finding)); break;
            }
        }
        // Clearing once is linear; detaching entries one by one runs relationship fix-up for each (quadratic in the batch).
        db.ChangeTracker.Clear();
        foreach (var finding in changed)
            db.Entry(finding).State = EntityState.Modified;
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
        if (added.Count > 0)
        {
            await BulkInsert.InsertAsync(db, added, cancellationToken);
            var keys = added.Select(f => f.AddressKey).Distinct().ToList();
            var ids = (await db.Findings.AsNoTracking().Where(f => keys.Contains(f.AddressKey))
                    .Select(f => new { f.Id, f.AddressKey, f.Port, f.Protocol }).ToListAsync(cancellationToken))
                .ToDictionary(f => (f.AddressKey, f.Port, f.Protocol), f => f.Id);
            foreach (var finding in added)
                finding.Id = ids[(finding.AddressKey, finding.Port, finding.Protocol)];
        }
        foreach (var (e, finding) in events)
        {
            if (finding is not null)
                e.FindingId = finding.Id;
        }
        await BulkInsert.InsertAsync(db, events.Select(e => e.Event), cancellationToken);
    }

    /// <summary>Open addresses with more open ports than the anomaly threshold in this run (their ports are not probed).</summary>
    public async Task<HashSet<string>> AnomalousAddressesAsync(long runId, CancellationToken cancellationToken)
    {
        var threshold = Math.Max(1, options.Value.HostAnomalyOpenPortThreshold);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId && o.State == PortState.Open)
            .GroupBy(o => o.Address).Where(g => g.Count() > threshold).Select(g => g.Key).ToListAsync(cancellationToken);
        return rows.ToHashSet();
    }

    private static Finding Upsert(PortWatchDbContext db, Dictionary<(string, int, TransportProtocol, FindingKind), Finding> byKey,
        string key, string address, int port, TransportProtocol protocol, FindingKind kind, out bool isNew)
    {
        isNew = false;
        if (byKey.TryGetValue((key, port, protocol, kind), out var finding))
            return finding;
        isNew = true;
        finding = new Finding { Address = address, AddressKey = key, Port = port, Protocol = protocol, Kind = kind, Status = TriageStatus.Unreviewed };
        db.Findings.Add(finding);
        byKey[(key, port, protocol, kind)] = finding;
        return finding;
    }

    /// <summary>Marks the finding open as of this run; returns 1 when it is new.</summary>
    private static int Observe(PortWatchDbContext db, Finding finding, long runId, DateTime now, bool isNew, bool isBaseline, string? detail, ref int reopened)
    {
        var wasOpen = finding.CurrentState == PortState.Open;
        var wasResolved = finding.Status == TriageStatus.Resolved;
        finding.CurrentState = PortState.Open;
        finding.LastSeenAt = now;
        finding.LastRunId = runId;
        if (isNew)
        {
            finding.FirstSeenAt = now;
            if (isBaseline)
                finding.AlertFingerprint = AlertFingerprintOf(finding); // the baseline is known, not news
            TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.New, isBaseline ? Join("baseline: first complete scan of this host, not alerted", detail) : detail);
            return 1;
        }
        if (!wasOpen || wasResolved)
        {
            if (wasResolved)
                finding.Status = TriageStatus.Unreviewed; // it came back: the analysts look again
            if (isBaseline)
                finding.AlertFingerprint = AlertFingerprintOf(finding);
            TriageRules.AddEvent(db, finding, runId, now, FindingEventKind.Reopened, Join(wasResolved ? "was resolved" : "was closed", detail));
            reopened++;
        }
        return 0;
    }

    /// <summary>What an alert is about: the kind and the service. An unchanged fingerprint is never alerted twice.</summary>
    public static string AlertFingerprintOf(Finding finding) =>
        string.Join('|', finding.Kind, finding.CurrentState, finding.ServiceName?.ToLowerInvariant(), finding.Product?.ToLowerInvariant());

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";

    /// <summary>What the finding's service was, when <paramref name="service"/> differs from it; null when the same or a first identification.</summary>
    internal static string? ServiceDiffers(Finding finding, ServiceInfo service)
    {
        if (finding.ServiceName is null && finding.Product is null)
            return null; // first identification, not a change
        if (SameText(finding.ServiceName, service.Name) && SameText(finding.Product, service.Product) && SameText(finding.Version, service.Version))
            return null;
        return string.Join(' ', new[] { finding.ServiceName, finding.Product, finding.Version }.Where(s => !string.IsNullOrEmpty(s)));
    }

    private static bool SameText(string? a, string? b) => string.Equals(a ?? "", b ?? "", StringComparison.OrdinalIgnoreCase);

    private static void SetService(Finding finding, ServiceInfo service)
    {
        finding.ServiceName = Cut(service.Name, 100);
        finding.Product = Cut(service.Product, 200);
        finding.Version = Cut(service.Version, 200);
    }

    private static string? Cut(string? text, int max) => text is { } t && t.Length > max ? t[..max] : text;

    private static async Task AppendNotesAsync(PortWatchDbContext db, long runId, List<string> notes, CancellationToken cancellationToken)
    {
        var run = await db.ScanRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        var text = string.Join('\n', new[] { run.Notes }.Concat(notes.Take(50)).Where(n => !string.IsNullOrEmpty(n)));
        if (notes.Count > 50)
            text += string.Create(CultureInfo.InvariantCulture, $"\n... and {notes.Count - 50} more");
        run.Notes = text.Length > 4000 ? text[..4000] : text;
        db.ChangeTracker.DetectChanges(); // the triage context does not detect by itself
        await db.SaveChangesAsync(cancellationToken);
    }
}
