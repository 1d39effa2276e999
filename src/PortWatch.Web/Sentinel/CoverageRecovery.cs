using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Sentinel;

/// <summary>A host whose latest scan lost it (silent part-way, or silent where it used to answer), with its known-open TCP ports.</summary>
public sealed record LostHost(string Address, string AddressKey, long LostRunId, int AnsweredBefore, string? LostNote, DateTime? LostRunStartedAt, IReadOnlyList<int> KnownOpen);

/// <summary>What one recovery learned; also stored as a Recovery run.</summary>
public sealed record RecoveryOutcome(long RunId, bool Answered, IReadOnlyList<int> Confirmed, IReadOnlyList<int> Unreachable, IReadOnlyList<int> ClosedNow,
    IReadOnlyList<int> NotVerified, TimeSpan Waited, int Blocks, string Evidence);

/// <summary>
/// Coverage recovery for hosts a scan lost. An anti-scan trap blocks the scanner after a few
/// probes for a while; the run that hit it keeps the host's findings and marks its coverage Lost,
/// which is right, but learns nothing more. Recovery waits the block out (one known-open port
/// probed every Sentinel:RecoveryPollSeconds until the host answers, up to RecoveryWaitMinutes),
/// then re-verifies the known-open ports one at a time, RecoverySpacingMs apart. A port that stays
/// silent while the port it was bracketed with answers is no longer reachable (filtered), never
/// closed; a port after which the host goes silent again has tripped the trap again: it is called
/// unreachable (the trap drops it), the block is waited out once more and the work goes on. The
/// host is labelled "anti-scan trap suspected" with the evidence.
/// </summary>
/// <remarks>Concurrency: one recovery at a time, from the sentinel tier's recovery job ([DisallowConcurrentExecution]);
/// its run is written in one go and triaged like a flow check, so a crash part-way leaves nothing half-written.</remarks>
public sealed class CoverageRecovery(IDbContextFactory<PortWatchDbContext> dbFactory, IOptions<SentinelOptions> options, RunTriageService triage, AlertService alerts,
    ScanScope scope, ScanProgressNotifier notifier, TimeProvider clock, ILogger<CoverageRecovery> logger)
{
    /// <summary>Ports that face the internet on most hosts: the likeliest to answer once a trap lets go, so they are polled first.</summary>
    private static readonly int[] LikelyPublic = [443, 80, 25, 53, 587, 465, 993, 995, 143, 110, 8443, 8080, 21, 22];

    /// <summary>Triggers whose runs mean to cover the host (a lost host is one of theirs); a pass or a flow check covers a few ports only.</summary>
    private static readonly ScanTrigger[] CoveringTriggers = [ScanTrigger.Manual, ScanTrigger.Scheduled, ScanTrigger.Api];

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<List<LostHost>> FindLostHostsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var covering = CoveringTriggers.ToList();
        // Each address's latest coverage row of a covering run, where that row is Lost.
        var lost = await db.ScanTargetCoverage.AsNoTracking()
            .Where(c => c.Status == TargetCoverageStatus.Lost && db.ScanRuns.Any(r => r.Id == c.ScanRunId && covering.Contains(r.Trigger) && r.FinishedAt != null))
            .Where(c => !db.ScanTargetCoverage.Any(l => l.AddressKey == c.AddressKey && l.ScanRunId > c.ScanRunId
                && db.ScanRuns.Any(r => r.Id == l.ScanRunId && covering.Contains(r.Trigger))))
            .Select(c => new { c.Address, c.AddressKey, c.ScanRunId, c.PortsAnswered, c.Note, Started = db.ScanRuns.Where(r => r.Id == c.ScanRunId).Select(r => r.StartedAt).FirstOrDefault() })
            .ToListAsync(cancellationToken);
        if (lost.Count == 0)
            return [];
        var keys = lost.Select(l => l.AddressKey).ToList();
        var open = (await db.Findings.AsNoTracking()
                .Where(f => keys.Contains(f.AddressKey) && f.Kind == FindingKind.Port && f.Protocol == TransportProtocol.Tcp && f.CurrentState == PortState.Open
                    && (f.Flags & FindingFlags.AssetRetired) == 0
                    // Like the passes, recovery probes enabled assets only: a disabled one was taken out of scanning on purpose.
                    && f.AssetId != null && db.Assets.Any(a => a.Id == f.AssetId && a.Enabled))
                .Select(f => new { f.AddressKey, f.Port }).ToListAsync(cancellationToken))
            .ToLookup(f => f.AddressKey, f => f.Port);
        var retryAfter = Now - TimeSpan.FromMinutes(options.Value.RecoveryRetryMinutes);
        var attempts = (await db.ScanTargetCoverage.AsNoTracking()
                .Where(c => keys.Contains(c.AddressKey) && db.ScanRuns.Any(r => r.Id == c.ScanRunId && r.Trigger == ScanTrigger.Recovery))
                .Select(c => new { c.AddressKey, c.ScanRunId, c.Status, Finished = db.ScanRuns.Where(r => r.Id == c.ScanRunId).Select(r => r.FinishedAt).FirstOrDefault() })
                .ToListAsync(cancellationToken))
            .ToLookup(a => a.AddressKey);
        var guard = new ScopeGuard(await scope.AllowedAsync(cancellationToken));
        return lost
            .Where(l => open[l.AddressKey].Any() && guard.Allows(IPAddress.Parse(l.Address)))
            // Done once it answered after the loss; a host still blocking is tried again after RecoveryRetryMinutes.
            .Where(l => !attempts[l.AddressKey].Any(a => a.ScanRunId > l.ScanRunId && (a.Status != TargetCoverageStatus.Lost || a.Finished > retryAfter)))
            .Select(l => new LostHost(l.Address, l.AddressKey, l.ScanRunId, l.PortsAnswered, l.Note, l.Started, [.. open[l.AddressKey].Distinct().OrderBy(p => p)]))
            .ToList();
    }

    /// <summary>
    /// Takes the trap label off hosts that a covering run has since scanned completely (the trap is gone, or no longer
    /// trips): the sentinel's passes, which leave labelled hosts out, cover them again.
    /// </summary>
    public async Task<int> LiftLabelsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var covering = CoveringTriggers.ToList();
        return await db.HostLabels.Where(l => l.Kind == HostLabelKind.AntiScanTrapSuspected
                && db.ScanTargetCoverage.Any(c => c.AddressKey == l.AddressKey && c.Status == TargetCoverageStatus.Complete && c.ScanRunId > (l.RecoveryRunId ?? 0)
                    && db.ScanRuns.Any(r => r.Id == c.ScanRunId && covering.Contains(r.Trigger))))
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>Recovers every lost host, one after the other.</summary>
    public async Task<List<RecoveryOutcome>> RecoverAllAsync(CancellationToken cancellationToken = default)
    {
        await LiftLabelsAsync(cancellationToken);
        var outcomes = new List<RecoveryOutcome>();
        foreach (var host in await FindLostHostsAsync(cancellationToken))
            outcomes.Add(await RecoverAsync(host, cancellationToken));
        return outcomes;
    }

    public async Task<RecoveryOutcome> RecoverAsync(LostHost host, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var address = IPAddress.Parse(host.Address);
        var timeout = TimeSpan.FromMilliseconds(settings.RecoveryTimeoutMs);
        var spacing = TimeSpan.FromMilliseconds(settings.RecoverySpacingMs);
        var started = Now;
        // Anchors: the known-open ports in the order most likely to answer once the block ends.
        var anchors = host.KnownOpen.OrderBy(p => Array.IndexOf(LikelyPublic, p) is var i && i < 0 ? int.MaxValue : i).ThenBy(p => p).ToList();
        logger.LogInformation("Coverage recovery of {Address} (lost in run {RunId}): waiting for it to answer on {Anchors}", host.Address, host.LostRunId, string.Join(", ", anchors.Take(5)));

        var blocks = 0;
        var waited = TimeSpan.Zero;
        var (anchor, anchorStatus, wait, silentProbes) = await WaitOutBlockAsync(address, anchors, timeout, cancellationToken);
        var firstAnchor = anchor;
        waited += wait;
        List<int> confirmed = [], unreachable = [], closedNow = [], notVerified = [];
        string evidence;
        if (anchor is null)
        {
            evidence = $"still silent on its known-open ports after {Duration(wait)} of polling every {settings.RecoveryPollSeconds} s: blocked or down, state kept; tried again in {settings.RecoveryRetryMinutes} min";
            var failed = await RecordAsync(host, [], [], anchors, evidence, answered: false, cancellationToken);
            logger.LogWarning("Coverage recovery of {Address}: {Evidence}", host.Address, evidence);
            return new RecoveryOutcome(failed, false, [], [], [], anchors, waited, blocks, evidence);
        }
        if (silentProbes > 0)
            blocks++;
        var firstAnswerAfter = silentProbes > 0 ? wait : TimeSpan.Zero;

        foreach (var port in anchors)
        {
            if (port == firstAnchor)
            {
                (anchorStatus == PortStatus.Open ? confirmed : closedNow).Add(port); // it answered just now
                continue;
            }
            if (anchor is null)
            {
                notVerified.Add(port);
                continue;
            }
            await Task.Delay(spacing, clock, cancellationToken);
            var result = await SinglePortCheck.TcpAsync(address, port, timeout, settings.Retries < 1 ? 1 : Math.Min(settings.Retries, 2), cancellationToken);
            if (result.Status == PortStatus.Open)
            {
                confirmed.Add(port);
                continue;
            }
            if (result.Status == PortStatus.Closed)
            {
                closedNow.Add(port);
                continue;
            }
            // Silent: filtered if the host still answers; if it has gone silent again, this port's probes tripped the trap.
            await Task.Delay(spacing, clock, cancellationToken);
            var check = await SinglePortCheck.TcpAsync(address, anchor.Value, timeout, 1, cancellationToken);
            unreachable.Add(port);
            if (check.Status is PortStatus.Open or PortStatus.Closed)
                continue;
            blocks++;
            if (port == anchors[^1])
                break; // nothing left to verify: no need to wait this block out
            logger.LogInformation("Coverage recovery of {Address}: silent again after probing {Port}; waiting out the block", host.Address, port);
            var again = await WaitOutBlockAsync(address, [anchor.Value, .. anchors.Where(a => a != anchor)], timeout, cancellationToken);
            waited += again.Waited;
            anchor = again.Anchor;
        }

        var before = host.AnsweredBefore > 0 ? $"answered {host.AnsweredBefore} probe(s) in run #{host.LostRunId}, then went silent" : $"answered nothing in run #{host.LostRunId} although ports were open before";
        var block = firstAnswerAfter > TimeSpan.Zero
            ? $"answered again after {Duration(firstAnswerAfter)} of polling"
            : "answered again when recovery began" + (host.LostRunStartedAt is { } s ? $", {Duration(started - s)} after that run started" : "");
        evidence = string.Join("; ", new[]
        {
            before, block,
            blocks > 1 ? $"blocked {blocks - 1} more time(s) while re-verifying" : null,
            $"{confirmed.Count} of {anchors.Count} known-open port(s) confirmed open ({List(confirmed)})",
            unreachable.Count > 0 ? $"{unreachable.Count} no longer reachable, filtered ({List(unreachable)})" : null,
            closedNow.Count > 0 ? $"{closedNow.Count} answered with a reset ({List(closedNow)}): left to the next full scan to close" : null,
            notVerified.Count > 0 ? $"{notVerified.Count} not verified: the host kept blocking ({List(notVerified)})" : null,
        }.Where(s => s is not null));
        var runId = await RecordAsync(host, confirmed, unreachable, notVerified, evidence, answered: true, cancellationToken);
        await triage.ApplyRunAsync(runId, mayClose: false, Now, cancellationToken, recordKept: false);
        await alerts.ProcessRunAsync(runId, cancellationToken);
        // A trap shows itself: silent when recovery began, silent again while re-verifying, or ports dropped that answered
        // before. A host that answers at once on every known port had a passing outage, and is not left out of the passes.
        if (blocks > 0 || unreachable.Count > 0)
            await LabelAsync(host, runId, evidence, cancellationToken);
        notifier.PublishRunChanged(runId);
        logger.LogInformation("Coverage recovery of {Address}: {Evidence}", host.Address, evidence);
        return new RecoveryOutcome(runId, true, confirmed, unreachable, closedNow, notVerified, waited, blocks, evidence);
    }

    /// <summary>Polls the anchors in turn, one probe per Sentinel:RecoveryPollSeconds, until one answers (open or reset) or the wait limit passes.</summary>
    private async Task<(int? Anchor, PortStatus Status, TimeSpan Waited, int SilentProbes)> WaitOutBlockAsync(IPAddress address, IReadOnlyList<int> anchors, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var poll = TimeSpan.FromSeconds(settings.RecoveryPollSeconds);
        var limit = TimeSpan.FromMinutes(settings.RecoveryWaitMinutes);
        var began = clock.GetUtcNow();
        // Cycle through the likeliest few only: a probe of a port the trap watches could renew the block.
        var cycle = anchors.Take(3).ToList();
        for (var attempt = 0; ; attempt++)
        {
            var port = cycle[attempt % cycle.Count];
            var result = await SinglePortCheck.TcpAsync(address, port, timeout, 0, cancellationToken);
            var waited = clock.GetUtcNow() - began;
            // A reset is an answer too: the host is not blocking, whatever the port's own state.
            if (result.Status is PortStatus.Open or PortStatus.Closed)
                return (port, result.Status, waited, attempt);
            if (waited + poll > limit)
                return (null, PortStatus.Filtered, waited, attempt + 1);
            await Task.Delay(poll, clock, cancellationToken);
        }
    }

    private async Task<long> RecordAsync(LostHost host, List<int> confirmed, List<int> unreachable, List<int> notVerified, string evidence, bool answered, CancellationToken cancellationToken)
    {
        var at = Now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var verified = confirmed.Concat(unreachable).Order().Select(p => (ushort)p).ToList();
        var run = new ScanRun
        {
            Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Recovery, TargetSpec = host.Address,
            ScannedTcpPorts = verified.Count > 0 ? PortSet.Compact(verified) : null,
            RequestedBy = "sentinel: coverage recovery", CreatedAt = at, StartedAt = at, FinishedAt = at, TargetCount = 1, PortCount = verified.Count, OpenCount = confirmed.Count,
            FilteredCount = unreachable.Count,
            Notes = Cut($"coverage recovery of {host.Address}, lost in run #{host.LostRunId}: {evidence}"),
        };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.ScanTargetCoverage.Add(new ScanTargetCoverage
        {
            ScanRunId = run.Id, Address = host.Address, AddressKey = host.AddressKey, PortsPlanned = confirmed.Count + unreachable.Count + notVerified.Count,
            PortsAnswered = confirmed.Count, Status = answered ? TargetCoverageStatus.Partial : TargetCoverageStatus.Lost, Note = Cut(evidence, 1000),
        });
        foreach (var port in confirmed)
            db.PortObservations.Add(Observation(run.Id, host, port, PortState.Open, "syn-ack", at));
        foreach (var port in unreachable)
            db.PortObservations.Add(Observation(run.Id, host, port, PortState.Filtered, "no-response", at));
        await db.SaveChangesAsync(cancellationToken);
        return run.Id;
    }

    private static PortObservation Observation(long runId, LostHost host, int port, PortState state, string reason, DateTime at) => new()
    {
        ScanRunId = runId, Address = host.Address, AddressKey = host.AddressKey, Port = port, Protocol = TransportProtocol.Tcp, State = state, Reason = reason, ObservedAt = at,
    };

    private async Task LabelAsync(LostHost host, long runId, string evidence, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var label = await db.HostLabels.SingleOrDefaultAsync(l => l.AddressKey == host.AddressKey && l.Kind == HostLabelKind.AntiScanTrapSuspected, cancellationToken);
        if (label is null)
        {
            label = new HostLabel { Address = host.Address, AddressKey = host.AddressKey, Kind = HostLabelKind.AntiScanTrapSuspected, Evidence = "", FirstSetAt = Now };
            db.HostLabels.Add(label);
        }
        label.Evidence = Cut(evidence, 2000);
        label.LostRunId = host.LostRunId;
        label.RecoveryRunId = runId;
        label.UpdatedAt = Now;
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string List(List<int> ports) =>
        string.Join(", ", ports.Take(20).Select(p => p.ToString(CultureInfo.InvariantCulture))) + (ports.Count > 20 ? ", ..." : "");

    private static string Duration(TimeSpan t) => t.TotalSeconds < 90 ? $"{t.TotalSeconds:0} s" : $"{t.TotalMinutes:0.#} min";

    private static string Cut(string text, int max = 4000) => text.Length > max ? text[..max] : text;
}
