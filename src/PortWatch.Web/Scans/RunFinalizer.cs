using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Scans;

/// <summary>
/// When every shard of a run has ended: service detection on the open ports, triage (findings,
/// diff, exceptions), alerts, and the run's final status and counters.
/// </summary>
/// <remarks>
/// Concurrency: exactly one node finalises a run. It claims the run with a lease
/// (<see cref="ScanRun.FinalizerNode"/>, <see cref="ScanRun.FinalizerLeaseUntil"/>) in one
/// conditional update, renews it every fifth of Scanning:LeaseSeconds while it works, and makes
/// every write of its own conditional on still holding it. Another node that comes along (a shard
/// ending late, a restart re-firing the coordinator) finds the lease held and only schedules a
/// look for when it would expire; if the holder died, that look takes the run over. A takeover
/// continues from the phase reached: service detection skips ports already identified, triage is
/// one transaction together with the move to the alerts phase, and alerts skip what was alerted.
/// </remarks>
public sealed class RunFinalizer(
    RunStore store,
    IOptions<ScanningOptions> scanningOptions,
    ProbeDatabaseCache probes,
    ScanQueue queue,
    RunTriageService triage,
    AlertService alerts,
    ScanProgressNotifier notifier,
    ResolvedDatabase database,
    TimeProvider clock,
    ILogger<RunFinalizer> logger)
{
    private TimeSpan Lease => TimeSpan.FromSeconds(scanningOptions.Value.LeaseSeconds);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    /// <summary>Finalises the run if all its shards have ended and no live node is finalising it already.</summary>
    public async Task TryFinalizeAsync(long runId, CancellationToken cancellationToken)
    {
        if (await ClaimAsync(runId, cancellationToken) is not { } phase)
            return;
        using var lost = new CancellationTokenSource();
        var leaseLost = false;
        try
        {
            await using (new AsyncTimer(TimeSpan.FromTicks(Lease.Ticks / 5), clock, async () =>
            {
                if (!await RenewAsync(runId))
                {
                    leaseLost = true;
                    await lost.CancelAsync();
                }
            }, logger))
            {
                await FinalizeAsync(runId, phase, lost.Token);
            }
        }
        catch (Exception) when (leaseLost)
        {
            logger.LogWarning("Scan run {RunId}: another node took over its finalisation while this one stalled; stopped here", runId);
        }
        catch (Exception ex) when (DatabaseWriteHealth.IsTransient(ex))
        {
            // The database refuses for longer than the writes retry: give the lease up and look again shortly.
            logger.LogError(ex, "Scan run {RunId} could not be finalised now; trying again", runId);
            await ReleaseAsync(runId);
            await queue.ScheduleFinalizeAsync(runId, clock.GetUtcNow() + Lease, CancellationToken.None);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Scan run {RunId} could not be finalised", runId);
            await store.WriteAsync($"failure of run {runId}", db => db.ScanRuns
                .Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id && r.Status == ScanRunStatus.Running)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, ScanRunStatus.Failed)
                    .SetProperty(r => r.Error, Cut($"finalising failed: {ex.Message}"))
                    .SetProperty(r => r.Phase, (RunPhase?)null)
                    .SetProperty(r => r.FinishedAt, Now)
                    .SetProperty(r => r.FinalizerLeaseUntil, (DateTime?)null)), CancellationToken.None);
        }
        finally
        {
            notifier.Forget(runId);
            notifier.PublishRunChanged(runId);
        }
    }

    /// <summary>The phase to continue from when this node now holds the lease; null when it does not (and a later look is scheduled if needed).</summary>
    private async Task<RunPhase?> ClaimAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await store.Contexts.CreateDbContextAsync(cancellationToken);
        if (await db.ScanShards.AnyAsync(s => s.ScanRunId == runId && (s.Status == ScanRunStatus.Queued || s.Status == ScanRunStatus.Running), cancellationToken))
            return null; // the last shard to end finalises
        var now = Now;
        var until = now + Lease;
        // SQLite has exactly one node: a lease held under another node id belongs to a process that is gone.
        var singleNode = database.Provider == DatabaseProvider.Sqlite;
        var claimed = await store.WriteAsync($"finaliser claim of run {runId}", d => d.ScanRuns
            .Where(r => r.Id == runId && r.Status == ScanRunStatus.Running
                && (r.FinalizerLeaseUntil == null || r.FinalizerLeaseUntil < now || (singleNode && r.FinalizerNode != ClusterNode.Id)))
            .ExecuteUpdateAsync(u => u
                .SetProperty(r => r.FinalizerNode, ClusterNode.Id)
                .SetProperty(r => r.FinalizerLeaseUntil, until)
                .SetProperty(r => r.Phase, r => r.Phase == null || r.Phase == RunPhase.Discovery || r.Phase == RunPhase.Paused ? RunPhase.Finalizing : r.Phase)), cancellationToken);
        var run = await db.ScanRuns.AsNoTracking().Where(r => r.Id == runId)
            .Select(r => new { r.Status, r.Phase, r.FinalizerNode, r.FinalizerLeaseUntil }).SingleAsync(cancellationToken);
        if (claimed == 1)
        {
            logger.LogInformation("Scan run {RunId}: finalising from phase {Phase} on {Node}", runId, run.Phase, ClusterNode.Id);
            return run.Phase ?? RunPhase.Finalizing;
        }
        if (run.Status == ScanRunStatus.Running && run.FinalizerLeaseUntil is { } held)
        {
            // Someone is at it. Should they die, this look takes over once their lease has run out.
            logger.LogInformation("Scan run {RunId} is being finalised by {Node} (lease until {Until:O}); looking again then", runId, run.FinalizerNode, held);
            await queue.ScheduleFinalizeAsync(runId, new DateTimeOffset(DateTime.SpecifyKind(held, DateTimeKind.Utc)) + TimeSpan.FromSeconds(1), cancellationToken);
        }
        return null;
    }

    private async Task<bool> RenewAsync(long runId)
    {
        var until = Now + Lease;
        try
        {
            await using var db = await store.Contexts.CreateDbContextAsync();
            return await db.ScanRuns.Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id && r.Status == ScanRunStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.FinalizerLeaseUntil, until)) == 1;
        }
        catch (Exception ex) when (DatabaseWriteHealth.IsTransient(ex))
        {
            // Not lost yet: the work's own writes wait for the database too, and the next renewal may go through.
            logger.LogWarning("Scan run {RunId}: renewing the finaliser's lease failed: {Error}", runId, DatabaseWriteHealth.Describe(ex));
            return true;
        }
    }

    private Task<int> ReleaseAsync(long runId) =>
        store.WriteAsync($"finaliser release of run {runId}", db => db.ScanRuns
            .Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.FinalizerLeaseUntil, (DateTime?)null)), CancellationToken.None);

    /// <summary>Moves the run to <paramref name="phase"/> if this node still holds the lease; otherwise the work stops here.</summary>
    private async Task EnterAsync(long runId, RunPhase phase, CancellationToken cancellationToken)
    {
        var moved = await store.WriteAsync($"phase of run {runId}", db => db.ScanRuns
            .Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id && r.Status == ScanRunStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Phase, phase)), cancellationToken);
        if (moved == 0)
            throw new OperationCanceledException("the finaliser's lease is held by another node");
        notifier.PublishRunChanged(runId);
    }

    private async Task FinalizeAsync(long runId, RunPhase phase, CancellationToken cancellationToken)
    {
        ScanRun run;
        List<ScanShard> shards;
        await using (var db = await store.Contexts.CreateDbContextAsync(cancellationToken))
        {
            run = await db.ScanRuns.AsNoTracking().Include(r => r.ScanProfile).SingleAsync(r => r.Id == runId, cancellationToken);
            shards = await db.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync(cancellationToken);
        }
        var cancelled = run.CancelRequestedAt is not null || shards.Any(s => s.Status == ScanRunStatus.Cancelled);
        var failed = shards.FirstOrDefault(s => s.Status == ScanRunStatus.Failed);

        if (phase is RunPhase.Finalizing or RunPhase.ServiceDetection)
        {
            if (!cancelled && failed is null && run.ScanProfile?.ServiceDetection == true)
            {
                await EnterAsync(runId, RunPhase.ServiceDetection, cancellationToken);
                var anomalous = await triage.AnomalousAddressesAsync(runId, cancellationToken);
                await DetectServicesAsync(runId, run.ScanProfile.VersionIntensity, anomalous, onlyUnknown: run.Trigger == ScanTrigger.Sentinel, cancellationToken);
            }
            phase = RunPhase.Triage;
        }
        if (phase == RunPhase.Triage)
        {
            await EnterAsync(runId, RunPhase.Triage, cancellationToken);
            // Findings and the move to the alerts phase in one transaction: a takeover after a crash never triages twice.
            // A sentinel pass closes nothing, and is no statement about the known ports it did not see open.
            var targeted = run.Trigger.IsTargetedCheck();
            var summary = await triage.ApplyRunAsync(runId, mayClose: !cancelled && failed is null && !targeted, Now, cancellationToken, recordKept: !targeted,
                alsoInTransaction: async db =>
                {
                    var moved = await db.ScanRuns.Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id && r.Status == ScanRunStatus.Running)
                        .ExecuteUpdateAsync(u => u.SetProperty(r => r.Phase, RunPhase.Alerts), cancellationToken);
                    if (moved == 0)
                        throw new OperationCanceledException("the finaliser's lease is held by another node");
                });
            logger.LogInformation("Scan run {RunId} changes: {New} new, {Reopened} reopened, {Closed} closed, {Changed} service changes, {Lost} target(s) lost",
                runId, summary.New, summary.Reopened, summary.Closed, summary.ServiceChanged, summary.CoverageLostTargets);
            await TrendRecorder.RecordAsync(store.Contexts, Now, cancellationToken);
            phase = RunPhase.Alerts;
        }
        if (phase == RunPhase.Alerts)
        {
            try
            {
                await alerts.ProcessRunAsync(runId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !DatabaseWriteHealth.IsTransient(ex))
            {
                // The scan's results stand; the alert failure is on record and in the log.
                logger.LogError(ex, "Alerts for scan run {RunId} failed", runId);
                await store.UpdateRunAsync(runId, r => r.Notes = Cut(string.Join('\n', new[] { r.Notes, $"alerts failed: {ex.Message}" }.Where(n => n is not null))), CancellationToken.None);
            }
        }
        await CompleteAsync(runId, shards, cancelled, failed, cancellationToken);
    }

    private async Task CompleteAsync(long runId, List<ScanShard> shards, bool cancelled, ScanShard? failed, CancellationToken cancellationToken)
    {
        var status = failed is not null ? ScanRunStatus.Failed : cancelled ? ScanRunStatus.Cancelled : ScanRunStatus.Completed;
        var now = Now;
        var error = failed?.Error;
        var done = await store.WriteAsync($"end of run {runId}", async db =>
        {
            var open = await db.PortObservations.CountAsync(o => o.ScanRunId == runId && o.State == PortState.Open);
            return await db.ScanRuns.Where(r => r.Id == runId && r.FinalizerNode == ClusterNode.Id && r.Status == ScanRunStatus.Running)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(r => r.Status, status)
                    .SetProperty(r => r.Error, error)
                    .SetProperty(r => r.Phase, (RunPhase?)null)
                    .SetProperty(r => r.PausedUntil, (DateTime?)null)
                    .SetProperty(r => r.FinishedAt, now)
                    .SetProperty(r => r.FinalizerLeaseUntil, (DateTime?)null)
                    .SetProperty(r => r.PacketsSent, shards.Sum(s => s.PacketsSent))
                    .SetProperty(r => r.RepliesReceived, shards.Sum(s => s.RepliesReceived))
                    .SetProperty(r => r.ClosedCount, shards.Sum(s => s.ClosedCount))
                    .SetProperty(r => r.FilteredCount, shards.Sum(s => s.FilteredCount))
                    .SetProperty(r => r.OpenCount, open));
        }, cancellationToken);
        if (done == 0)
            throw new OperationCanceledException("the finaliser's lease is held by another node");
        logger.LogInformation("Scan run {RunId} {Status} in {Shards} shard(s){Error}", runId, status, shards.Count, failed?.Error is { } e ? $" ({e})" : "");
    }

    /// <param name="skip">Addresses not to probe: hosts that answered on too many ports (a tarpit would eat the whole budget).</param>
    /// <remarks>Open TCP ports, and UDP ports that answered or stayed silent (a UDP service answers only its own protocol, so
    /// the probes find services the port scan's payload did not).</remarks>
    /// <param name="onlyUnknown">A sentinel pass every few minutes: only ports with no open finding are probed (the known ones were identified by the scans that found them).</param>
    private async Task DetectServicesAsync(long runId, int intensity, HashSet<string> skip, bool onlyUnknown, CancellationToken cancellationToken)
    {
        List<PortObservation> candidates;
        await using (var db = await store.Contexts.CreateDbContextAsync(cancellationToken))
        {
            // Ports identified by an earlier attempt (before a takeover) are not probed again.
            var query = db.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId && o.Service == null);
            query = onlyUnknown
                // A pass's UDP silences are left alone: its payloads already made the catalogue's UDP services answer.
                ? query.Where(o => o.State == PortState.Open && !db.Findings.Any(f => f.AddressKey == o.AddressKey && f.Port == o.Port && f.Protocol == o.Protocol
                    && f.Kind == FindingKind.Port && f.CurrentState == PortState.Open && f.Status != TriageStatus.Resolved))
                : query.Where(o => o.Protocol == TransportProtocol.Tcp ? o.State == PortState.Open : o.State == PortState.Open || o.State == PortState.OpenFiltered);
            candidates = await query.ToListAsync(cancellationToken);
        }
        candidates.RemoveAll(o => skip.Contains(o.Address));
        if (candidates.Count == 0)
            return;
        var byEndpoint = candidates.ToDictionary(o => (o.Address, o.Port, o.Protocol));
        var endpoints = candidates.Select(o => (new IPEndPoint(IPAddress.Parse(o.Address), o.Port), o.Protocol == TransportProtocol.Udp ? PortProtocol.Udp : PortProtocol.Tcp));
        try
        {
            await StoreServicesAsync(runId, new ServiceDetector(probes.Get(), new ProbeRunnerOptions { Intensity = intensity }).ProbeManyAsync(endpoints, cancellationToken),
                byEndpoint, cancellationToken);
        }
        finally
        {
            notifier.ForgetPhase(runId);
        }
    }

    /// <summary>
    /// Stores each report with its observation. A UDP port that answered a probe is open, and one that sent back a port
    /// unreachable is closed, whatever the port scan's silence left them as; a UDP port that answered nothing keeps its
    /// state and gets no service row.
    /// </summary>
    private async Task StoreServicesAsync(long runId, IAsyncEnumerable<ServiceReport> reports,
        Dictionary<(string Address, int Port, TransportProtocol Protocol), PortObservation> observations, CancellationToken cancellationToken)
    {
        var started = Now;
        var done = 0;
        notifier.PublishPhase(runId, new PhaseProgress(RunPhase.ServiceDetection, 0, observations.Count, started));
        await foreach (var report in reports)
        {
            notifier.PublishPhase(runId, new PhaseProgress(RunPhase.ServiceDetection, ++done, observations.Count, started));
            var udp = report.Protocol == PortProtocol.Udp;
            if (!observations.TryGetValue((report.Endpoint.Address.ToString(), report.Endpoint.Port, udp ? TransportProtocol.Udp : TransportProtocol.Tcp), out var observation))
                continue;
            if (udp && !report.Answered && !report.Refused)
                continue;
            await store.WriteAsync($"service of observation {observation.Id}", async db =>
            {
                if (await db.ServiceInfos.AnyAsync(s => s.PortObservationId == observation.Id))
                    return;
                if (udp)
                {
                    var stored = await db.PortObservations.SingleAsync(o => o.Id == observation.Id);
                    (stored.State, stored.Reason) = report.Answered ? (PortState.Open, "udp-response") : (PortState.Closed, "port-unreach");
                }
                if (!udp || report.Answered)
                    db.ServiceInfos.Add(ServiceInfoMapper.From(report, observation.Id));
                await db.SaveChangesAsync();
            }, cancellationToken);
        }
    }

    private static string Cut(string text) => text.Length > 4000 ? text[..4000] : text;
}
