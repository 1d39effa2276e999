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
        Dictionary<string, Target> targets;
        TriageRules rules;
        AssetLocator assets;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            run = await read.ScanRuns.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);
            targets = new Dictionary<string, Target>(StringComparer.Ordinal);
            await foreach (var c in read.ScanTargetCoverage.AsNoTracking().Where(c => c.ScanRunId == runId)
                               .Select(c => new { c.AddressKey, c.Address, c.Status }).AsAsyncEnumerable().WithCancellation(cancellationToken))
                targets[c.AddressKey] = new Target(c.Address, c.Status, 0);
            // Streamed into the one map: a list of 131,072 addresses beside it held tens of MB through the whole triage.
            await foreach (var o in read.PortObservations.AsNoTracking()
                               .Where(o => o.ScanRunId == runId && (o.State == PortState.Open || o.State == PortState.OpenFiltered))
                               .GroupBy(o => new { o.AddressKey, o.Address })
                               .Select(g => new { g.Key.AddressKey, g.Key.Address, Open = g.Count(o => o.State == PortState.Open) })
                               .AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                targets[o.AddressKey] = targets.TryGetValue(o.AddressKey, out var known)
                    ? known with { Open = o.Open }
                    : new Target(o.Address, TargetCoverageStatus.Partial, o.Open);
            }
            rules = await TriageRules.LoadAsync(read, cancellationToken);
            assets = await AssetLocator.LoadAsync(read, cancellationToken);
        }
        var scanned = new ScannedPorts(run.ScannedTcpPorts, run.ScannedUdpPorts);
        var threshold = Math.Max(1, options.Value.HostAnomalyOpenPortThreshold);
        var probedTcp = scanned.TcpCount;
        var own = scannerAddresses.Current();
        int created = 0, reopened = 0, closed = 0, changed = 0;
        var notes = new List<string>();

        // One transaction over all batches: a crash part-way leaves nothing, and the finaliser's takeover triages from scratch.
        // A bulk transaction: on SQLite its statement journal stays in memory (BulkTransaction says why).
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false; // TriageBatch.SaveAsync looks for changes where there can be some
        await using var transaction = await BulkTransaction.BeginAsync(db, cancellationToken);
        // Each batch is read on a second connection while the one before it is worked out and written on this one (the two
        // cores each have one of them). The batches' addresses are disjoint and every read is of rows this transaction has
        // not written (the batch's own findings, other runs' coverage, this run's observations), so the second connection
        // reads what this transaction would show it.
        await using var reader = await dbFactory.CreateDbContextAsync(cancellationToken);
        var batches = targets.Keys.Order(StringComparer.Ordinal).Chunk(AddressesPerBatch).ToList();
        Task<TriageBatchRead>? next = batches.Count > 0 ? TriageBatchRead.ReadAheadAsync(reader, runId, batches[0], cancellationToken) : null;
        try
        {
            for (var index = 0; index < batches.Count; index++)
            {
                var (keys, observations, findings, baselined) = await next!;
                next = index + 1 < batches.Count ? TriageBatchRead.ReadAheadAsync(reader, runId, batches[index + 1], cancellationToken) : null;
                db.ChangeTracker.Clear();
                // Known findings are tracked (their changes are found and saved); new ones and all events are kept in the batch and written in bulk.
                db.Findings.AttachRange(findings);
                var work = new TriageBatch(findings);
                // By address, so each address looks at its own rows only (a scan over the batch per address was quadratic).
                var observationsAt = observations.ToLookup(o => o.AddressKey);
                var findingsAt = findings.ToLookup(f => f.AddressKey);

                foreach (var key in keys)
                {
                    var (address, coverage, openHere) = targets[key];
                    // A flow check, a sentinel pass or a recovery sees a few ports: news, never a host's baseline (that is its first complete scan).
                    var isBaseline = !baselined.Contains(key) && !run.Trigger.IsTargetedCheck();
                    var isOwn = own.Count > 0 && own.Any(r => r.Contains(IPAddress.Parse(address)));
                    var seen = new HashSet<(int, TransportProtocol)>();

                    if (LooksLikeSynProxy(openHere, probedTcp, threshold))
                    {
                        // A SYN proxy, tarpit or trap answers everything: one host-level finding, not hundreds.
                        var anomaly = work.Upsert(key, address, 0, TransportProtocol.Tcp, FindingKind.HostAnomaly, out var isNew);
                        anomaly.AssetId ??= assets.Find(key);
                        var detail = openHere > threshold
                            ? $"{openHere} open ports in one run (more than {threshold}): likely a SYN proxy, tarpit or scan trap; its ports were not probed or listed one by one"
                            : $"{openHere} of the {probedTcp} TCP ports probed open in one run: likely a SYN proxy, tarpit or scan trap; its ports were not probed or listed one by one";
                        created += Observe(work, anomaly, runId, now, isNew, isBaseline, detail, ref reopened);
                        notes.Add($"{address}: {openHere} open ports, one host-level finding instead");
                        if (isOwn)
                            anomaly.Flags |= FindingFlags.ScannerAddress;
                        continue;
                    }

                    foreach (var o in observationsAt[key].Where(o => o.State == PortState.Open))
                    {
                        seen.Add((o.Port, o.Protocol));
                        var finding = work.Upsert(key, address, o.Port, o.Protocol, FindingKind.Port, out var isNew);
                        finding.AssetId ??= assets.Find(key);
                        finding.LastObservationId = o.Id;
                        // "unknown" means detection learned nothing this time (a timeout, a busy service): not a change.
                        var identified = o.HasService && !(o.Product is null && o.ServiceName is null or "unknown" or "ssl/unknown");
                        var was = identified && !isNew ? ServiceDiffers(finding, o.ServiceName, o.Product, o.Version) : null;
                        var nameOrProductChanged = was is not null && (!SameText(finding.ServiceName, o.ServiceName) || !SameText(finding.Product, o.Product));
                        if (identified || (isNew && o.HasService))
                            SetService(finding, o.ServiceName, o.Product, o.Version);
                        created += Observe(work, finding, runId, now, isNew, isBaseline, null, ref reopened);
                        if (was is not null)
                        {
                            if (nameOrProductChanged)
                                finding.Flags |= FindingFlags.ServiceChanged;
                            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.ServiceChanged, $"was {was}"));
                            if (isBaseline)
                                finding.AlertFingerprint = AlertFingerprintOf(finding);
                            changed++;
                        }
                        if (isOwn)
                            finding.Flags |= FindingFlags.ScannerAddress;
                    }
                    foreach (var o in observationsAt[key].Where(o => o.State == PortState.OpenFiltered))
                        seen.Add((o.Port, o.Protocol)); // unknown, so not closed
                    if (run.Trigger == ScanTrigger.Recovery)
                    {
                        // Re-verified one by one while the host answered on other ports: silent now means no longer reachable, not closed.
                        foreach (var o in observationsAt[key].Where(o => o.State == PortState.Filtered))
                        {
                            seen.Add((o.Port, o.Protocol));
                            if (findingsAt[key].FirstOrDefault(f => f.Kind == FindingKind.Port && f.Port == o.Port && f.Protocol == o.Protocol && f.CurrentState == PortState.Open) is not { } finding)
                                continue;
                            finding.CurrentState = PortState.Filtered;
                            finding.LastRunId = runId;
                            finding.LastObservationId = o.Id;
                            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.Unreachable,
                                "no longer reachable: silent (filtered) on re-verification while the host answered on another port; not closed"));
                        }
                    }

                    var gone = findingsAt[key].Where(f => f.CurrentState == PortState.Open && !seen.Contains((f.Port, f.Protocol))
                        && (f.Kind == FindingKind.HostAnomaly || scanned.Contains(f.Port, f.Protocol))).ToList();
                    foreach (var finding in gone)
                    {
                        if (coverage == TargetCoverageStatus.Complete && mayClose)
                        {
                            finding.CurrentState = PortState.Closed;
                            finding.LastRunId = runId;
                            finding.AlertFingerprint = null; // if it opens again, that is news
                            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.Closed,
                                finding.Kind == FindingKind.HostAnomaly ? $"{openHere} open ports now" : "not open on a complete scan of the host"));
                            closed++;
                        }
                        else if (recordKept)
                        {
                            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.CoverageLost,
                                coverage == TargetCoverageStatus.Lost ? "the host stopped answering: state kept" : "the scan did not finish this host: state kept"));
                        }
                    }
                }
                var touched = work.Touched;
                await rules.PrepareAsync(db, touched, cancellationToken);
                foreach (var finding in touched)
                    rules.Apply(work.Record, finding, runId, now);
                await work.SaveAsync(db, cancellationToken);
            }
        }
        finally
        {
            if (next is not null)
                await next.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default); // never leave it reading a disposed context
        }


        var lost = targets.Values.Count(t => t.Status == TargetCoverageStatus.Lost);
        if (lost > 0)
            notes.Add($"coverage lost on {lost} target(s): they stopped answering part-way; their findings keep their state");
        db.ChangeTracker.Clear();
        if (notes.Count > 0)
            await AppendNotesAsync(db, runId, notes, cancellationToken);
        await RetiredAssetFlags.FlagRunAsync(db, runId, now, cancellationToken);
        if (alsoInTransaction is not null)
            await alsoInTransaction(db);
        await transaction.CommitAsync(cancellationToken);
        return new RunTriageSummary(created, reopened, closed, changed, lost, targets.Values.Count(t => LooksLikeSynProxy(t.Open, probedTcp, threshold)));
    }

    /// <summary>Probed ports a run needs before the share of them open says anything: a sentinel pass probes the catalogue's 20 TCP ports.</summary>
    internal const int MinimumProbedForShare = 16;

    /// <summary>
    /// Whether a host's open ports in one run say SYN proxy, tarpit or trap rather than server: more than the threshold, or
    /// three quarters and more of at least <see cref="MinimumProbedForShare"/> TCP ports probed. A sentinel pass or a short port
    /// list never reaches 100 open ports, and a SYN proxy answering all 20 of the catalogue's was 20 critical alerts a pass.
    /// </summary>
    internal static bool LooksLikeSynProxy(int open, int probedTcp, int threshold) =>
        open > threshold || (probedTcp >= MinimumProbedForShare && open * 4 >= probedTcp * 3);

    /// <summary>An address of the run: how far the run covered it, and how many of its ports it found open.</summary>
    private readonly record struct Target(string Address, TargetCoverageStatus Status, int Open);

    /// <summary>Addresses whose open ports in this run look like a SYN proxy, tarpit or trap (<see cref="LooksLikeSynProxy"/>): their ports are not probed.</summary>
    public async Task<HashSet<string>> AnomalousAddressesAsync(long runId, CancellationToken cancellationToken)
    {
        var threshold = Math.Max(1, options.Value.HostAnomalyOpenPortThreshold);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.ScanRuns.AsNoTracking().Where(r => r.Id == runId).Select(r => new { r.ScannedTcpPorts, r.ScannedUdpPorts }).SingleAsync(cancellationToken);
        var probedTcp = new ScannedPorts(run.ScannedTcpPorts, run.ScannedUdpPorts).TcpCount;
        // Over the smaller of the two bars, then each address judged by the rule itself.
        var least = probedTcp >= MinimumProbedForShare ? Math.Min(threshold, (probedTcp * 3 + 3) / 4 - 1) : threshold;
        var rows = await db.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId && o.State == PortState.Open)
            .GroupBy(o => o.Address).Where(g => g.Count() > least).Select(g => new { g.Key, Open = g.Count() }).ToListAsync(cancellationToken);
        return rows.Where(r => LooksLikeSynProxy(r.Open, probedTcp, threshold)).Select(r => r.Key).ToHashSet();
    }

    /// <summary>Marks the finding open as of this run; returns 1 when it is new.</summary>
    private static int Observe(TriageBatch work, Finding finding, long runId, DateTime now, bool isNew, bool isBaseline, string? detail, ref int reopened)
    {
        var wasOpen = finding.CurrentState == PortState.Open;
        var wasResolved = finding.Status == TriageStatus.Resolved;
        var wasUnreachable = finding.CurrentState == PortState.Filtered;
        finding.CurrentState = PortState.Open;
        finding.LastSeenAt = now;
        finding.LastRunId = runId;
        if (isNew)
        {
            finding.FirstSeenAt = now;
            if (isBaseline)
                finding.AlertFingerprint = AlertFingerprintOf(finding); // the baseline is known, not news
            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.New, isBaseline ? Join("baseline: first complete scan of this host, not alerted", detail) : detail));
            return 1;
        }
        if (!wasOpen || wasResolved)
        {
            if (wasResolved)
                finding.Status = TriageStatus.Unreviewed; // it came back: the analysts look again
            if (isBaseline)
                finding.AlertFingerprint = AlertFingerprintOf(finding);
            work.Record(TriageRules.NewEvent(finding, runId, now, FindingEventKind.Reopened,
                Join(wasResolved ? "was resolved" : wasUnreachable ? "was no longer reachable" : "was closed", detail)));
            reopened++;
        }
        return 0;
    }

    /// <summary>What an alert is about: the kind and the service. An unchanged fingerprint is never alerted twice.</summary>
    public static string AlertFingerprintOf(Finding finding) =>
        string.Join('|', finding.Kind, finding.CurrentState, finding.ServiceName?.ToLowerInvariant(), finding.Product?.ToLowerInvariant());

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";

    /// <summary>What the finding's service was, when <paramref name="service"/> differs from it; null when the same or a first identification.</summary>
    internal static string? ServiceDiffers(Finding finding, string? name, string? product, string? version)
    {
        if (finding.ServiceName is null && finding.Product is null)
            return null; // first identification, not a change
        if (SameText(finding.ServiceName, name) && SameText(finding.Product, product) && SameText(finding.Version, version))
            return null;
        return string.Join(' ', new[] { finding.ServiceName, finding.Product, finding.Version }.Where(s => !string.IsNullOrEmpty(s)));
    }

    private static bool SameText(string? a, string? b) => string.Equals(a ?? "", b ?? "", StringComparison.OrdinalIgnoreCase);

    private static void SetService(Finding finding, string? name, string? product, string? version)
    {
        finding.ServiceName = Cut(name, 100);
        finding.Product = Cut(product, 200);
        finding.Version = Cut(version, 200);
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
