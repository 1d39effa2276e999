using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Targets;
using PortWatch.Scanning.Transport;
using PortWatch.Scanning.Udp;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;
using PortStatus = PortWatch.Scanning.PortStatus;

namespace PortWatch.Web.Jobs;

/// <summary>
/// One scan run from start to end: discovery (the engine) → service detection on open ports →
/// persistence in batches → triage (findings, diff, exceptions) → alerts → done. Progress and a resume checkpoint are saved as it
/// goes; a cancel request made on any node (CancelRequestedAt) stops it at the next check.
/// Every failure ends up on the run as readable text; nothing here throws at the scheduler.
/// </summary>
public sealed class ScanPipeline(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<ScanningOptions> scanningOptions,
    RateBudget budget,
    ScanProgressNotifier notifier,
    ProbeDatabaseCache probes,
    ScanQueue queue,
    ScannerAddresses scannerAddresses,
    ScanScope scope,
    RunTriageService triage,
    AlertService alerts,
    TimeProvider clock,
    ILogger<ScanPipeline> logger)
{
    public static readonly string NodeId = $"{Environment.MachineName}:{Environment.ProcessId}";
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);

    /// <summary>Runs the coordinator (shardIndex null: check the run, split it, schedule the shards) or one shard.</summary>
    public Task RunAsync(long runId, CancellationToken shutdown) => RunAsync(runId, null, shutdown);

    public async Task RunAsync(long runId, int? shardIndex, CancellationToken shutdown)
    {
        if (shardIndex is { } index)
            await RunShardAsync(runId, index, shutdown);
        else
            await SplitAsync(runId, shutdown);
    }

    private sealed record Plan(ScanRun Run, ScanProfile Profile, TargetSet Targets, PortSet Ports, ScheduleWindow? Window);

    /// <summary>Loads and checks what a run needs; null (and the run failed) when it cannot be scanned.</summary>
    private async Task<Plan?> PlanAsync(long runId, CancellationToken cancellationToken)
    {
        ScanRun run;
        ScheduleWindow? window = null;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            run = await db.ScanRuns.AsNoTracking().Include(r => r.ScanProfile).SingleOrDefaultAsync(r => r.Id == runId, cancellationToken)
                ?? throw new InvalidOperationException($"scan run {runId} does not exist");
            if (run.ScheduleId is { } scheduleId && await db.Schedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId, cancellationToken) is { } schedule)
                window = ScheduleWindow.Of(schedule);
        }
        if (run.Status is ScanRunStatus.Completed or ScanRunStatus.Failed or ScanRunStatus.Cancelled)
            return null; // already finished: a duplicate fire after recovery
        try
        {
            var profile = run.ScanProfile ?? throw new TargetSpecException("", "the run has no scan profile");
            var excluded = string.IsNullOrEmpty(run.ExcludedTargets) ? [] : run.ExcludedTargets.Split(',');
            var targets = TargetSet.Create([run.TargetSpec], excluded);
            await scope.CheckAsync(targets, cancellationToken);
            var tcp = profile.TcpEnabled ? PortSet.Parse(profile.TcpPorts).Tcp : [];
            var udp = profile.UdpEnabled && !string.IsNullOrWhiteSpace(profile.UdpPorts) ? PortSet.Parse(profile.UdpPorts, PortProtocol.Udp).Udp : [];
            if (tcp.Count + udp.Count == 0)
                throw new TargetSpecException(profile.TcpPorts, "the profile selects no ports");
            return new Plan(run, profile, targets, new PortSet(tcp, udp), window);
        }
        catch (TargetSpecException ex)
        {
            await FailAsync(runId, $"Cannot scan: {ex.Message}");
            return null;
        }
    }

    private async Task SplitAsync(long runId, CancellationToken shutdown)
    {
        if (await PlanAsync(runId, shutdown) is not { } plan)
            return;
        if (!await ShardsExistAsync(runId, shutdown))
        {
            if (await FixScopeAsync(plan, shutdown) is not { } fixedPlan)
                return;
            plan = fixedPlan;
        }
        var shardSize = (ulong)Math.Max(1, scanningOptions.Value.ShardSize);
        await using (var db = await dbFactory.CreateDbContextAsync(shutdown))
        {
            if (!await db.ScanShards.AnyAsync(s => s.ScanRunId == runId, shutdown))
            {
                for (ulong first = 0, index = 0; first < plan.Targets.Count; first += shardSize, index++)
                {
                    db.ScanShards.Add(new ScanShard
                    {
                        ScanRunId = runId, Index = (int)index, FirstTarget = (long)first,
                        TargetCount = (long)Math.Min(shardSize, plan.Targets.Count - first),
                    });
                }
                try
                {
                    await db.SaveChangesAsync(shutdown);
                }
                catch (DbUpdateException)
                {
                    // Another node split this run a moment ago: its shards stand.
                }
            }
        }
        var seed = plan.Run.PermutationSeed ?? Random.Shared.NextInt64(1, long.MaxValue);
        await UpdateAsync(runId, r =>
        {
            if (r.Status == ScanRunStatus.Queued)
                r.Status = ScanRunStatus.Running;
            r.StartedAt ??= Now;
            r.Phase ??= "discovery";
            r.PermutationSeed = seed;
            r.TargetCount = (long)plan.Targets.Count;
            r.PortCount = plan.Ports.Tcp.Count + plan.Ports.Udp.Count;
        }, shutdown);
        notifier.PublishRunChanged(runId);
        List<ScanShard> open;
        await using (var db = await dbFactory.CreateDbContextAsync(shutdown))
        {
            open = await db.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync(shutdown);
        }
        foreach (var shard in open.Where(s => s.Status is ScanRunStatus.Queued or ScanRunStatus.Running))
            await queue.ScheduleShardAsync(runId, shard.Index, shutdown);
        if (open.All(s => s.Status is not (ScanRunStatus.Queued or ScanRunStatus.Running)))
            await TryFinalizeAsync(runId, CancellationToken.None);
    }

    private async Task<bool> ShardsExistAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ScanShards.AnyAsync(s => s.ScanRunId == runId, cancellationToken);
    }

    /// <summary>
    /// Fixes, once and before any shard exists, what every node must agree on: the scanner's own
    /// addresses left out of the targets (interfaces differ between nodes) and the ports probed.
    /// </summary>
    private async Task<Plan?> FixScopeAsync(Plan plan, CancellationToken cancellationToken)
    {
        var own = scanningOptions.Value.ExcludeScannerAddresses ? scannerAddresses.Within(plan.Targets) : [];
        if (own.Count > 0 && plan.Targets.Ranges.All(t => own.Any(o => IpRange.Parse(o).Covers(t))))
        {
            await FailAsync(plan.Run.Id, $"Every target is this scanner's own address ({string.Join(", ", own.Take(10))}); set Scanning:ExcludeScannerAddresses to false to scan it anyway.");
            return null;
        }
        var note = own.Count > 0 ? $"left out the scanner's own address(es): {string.Join(", ", own.Take(10))}{(own.Count > 10 ? ", ..." : "")}"
            : !scanningOptions.Value.ExcludeScannerAddresses && scannerAddresses.Within(plan.Targets) is { Count: > 0 } included
                ? $"scans the scanner's own address(es) {string.Join(", ", included.Take(10))} (Scanning:ExcludeScannerAddresses is false): their findings are flagged"
                : null;
        await UpdateAsync(plan.Run.Id, r =>
        {
            r.ExcludedTargets = own.Count > 0 ? string.Join(',', own) : null;
            r.ScannedTcpPorts = plan.Ports.Tcp.Count > 0 ? PortSet.Compact(plan.Ports.Tcp) : null;
            r.ScannedUdpPorts = plan.Ports.Udp.Count > 0 ? PortSet.Compact(plan.Ports.Udp) : null;
            if (note is not null)
                r.Notes = note;
        }, cancellationToken);
        if (own.Count == 0)
            return plan;
        return await PlanAsync(plan.Run.Id, cancellationToken);
    }

    private async Task RunShardAsync(long runId, int shardIndex, CancellationToken shutdown)
    {
        if (await PlanAsync(runId, shutdown) is not { } plan)
            return;
        ScanShard shard;
        await using (var db = await dbFactory.CreateDbContextAsync(shutdown))
        {
            shard = await db.ScanShards.AsNoTracking().SingleAsync(s => s.ScanRunId == runId && s.Index == shardIndex, shutdown);
        }
        if (shard.Status is not (ScanRunStatus.Queued or ScanRunStatus.Running))
        {
            await TryFinalizeAsync(runId, CancellationToken.None);
            return;
        }
        var targets = plan.Targets.Slice((ulong)shard.FirstTarget, (ulong)shard.TargetCount);
        var resumed = shard.Status == ScanRunStatus.Running && shard.CheckpointPosition is > 0;
        await UpdateShardAsync(shard.Id, s =>
        {
            s.Status = ScanRunStatus.Running;
            s.StartedAt ??= Now;
            s.Node = NodeId;
            if (resumed)
                s.ResumeCount++;
        }, shutdown);
        if (resumed)
            await UpdateAsync(runId, r => r.ResumeCount++, shutdown);

        var options = scanningOptions.Value;
        var profile = plan.Profile;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var state = new RunState(runId, targets, plan.Ports.Tcp.Count + plan.Ports.Udp.Count, await ExistingOpenKeysAsync(runId, shutdown),
            await AnsweredBeforeAsync(runId, targets, shutdown)) { ShardId = shard.Id };
        try
        {
            using var watcher = WatchForCancelRequest(runId, cancel);
            await using var lease = await budget.AcquireAsync(shard.Id, profile.RatePps, cancel.Token);
            var engineOptions = new ScanOptions
            {
                RatePps = lease.PacketsPerSecond,
                Retries = profile.Retries,
                Timeout = TimeSpan.FromMilliseconds(profile.TimeoutMs),
                SourcePort = (ushort)options.SourcePort,
                Seed = (ulong)(plan.Run.PermutationSeed ?? 1) ^ (ulong)shardIndex,
                StartPosition = resumed ? (ulong)shard.CheckpointPosition!.Value : 0,
            };
            logger.LogInformation("Scan run {RunId} shard {Shard}: {Targets} target(s) x {Ports} port(s) at {Rate}/s{Resumed}", runId, shardIndex,
                targets.Count, state.PortsPerTarget, lease.PacketsPerSecond, resumed ? $", resumed at probe {engineOptions.StartPosition}" : "");
            await DiscoverAsync(state, plan.Ports, profile.Engine, engineOptions, plan.Window, cancel.Token);
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await FinishShardAsync(shard.Id, state, ScanRunStatus.Completed, null, TargetCoverageStatus.Complete);
        }
        catch (WindowClosedException closed)
        {
            // Outside the schedule's window: keep the place, continue when it reopens.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await SaveCheckpointAsync(state);
            await UpdateAsync(runId, r => r.Phase = $"paused until {closed.Reopens:yyyy-MM-dd HH:mm zzz}", CancellationToken.None);
            await queue.ContinueLaterAsync(ScanJob.KeyFor(runId, shardIndex), closed.Reopens, CancellationToken.None);
            logger.LogInformation("Scan run {RunId} shard {Shard} paused: {Reason}", runId, shardIndex, closed.Message);
            return;
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            // Cancelled on request: keep what was found, mark the coverage partial.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await FinishShardAsync(shard.Id, state, ScanRunStatus.Cancelled, null, TargetCoverageStatus.Partial);
        }
        catch (OperationCanceledException)
        {
            // The node is shutting down: keep the checkpoint; the shard resumes where a node starts it again.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await SaveCheckpointAsync(state);
            throw;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Scan run {RunId} shard {Shard} failed", runId, shardIndex);
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await FinishShardAsync(shard.Id, state, ScanRunStatus.Failed, ex.Message, TargetCoverageStatus.Partial);
        }
        finally
        {
            notifier.PublishRunChanged(runId);
        }
        await TryFinalizeAsync(runId, CancellationToken.None);
    }

    /// <summary>
    /// When every shard has ended, exactly one node (the one whose conditional update wins) runs
    /// service detection and the findings and closes the run.
    /// </summary>
    private async Task TryFinalizeAsync(long runId, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await db.ScanShards.AnyAsync(s => s.ScanRunId == runId && (s.Status == ScanRunStatus.Queued || s.Status == ScanRunStatus.Running), cancellationToken))
                return;
            var claimed = await db.ScanRuns.Where(r => r.Id == runId && r.Status == ScanRunStatus.Running && r.Phase != "finalizing")
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Phase, "finalizing"), cancellationToken);
            if (claimed == 0)
                return;
        }
        try
        {
            ScanRun run;
            List<ScanShard> shards;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                run = await db.ScanRuns.AsNoTracking().Include(r => r.ScanProfile).SingleAsync(r => r.Id == runId, cancellationToken);
                shards = await db.ScanShards.AsNoTracking().Where(s => s.ScanRunId == runId).ToListAsync(cancellationToken);
            }
            var anomalous = await triage.AnomalousAddressesAsync(runId, cancellationToken);
            var cancelled = run.CancelRequestedAt is not null || shards.Any(s => s.Status == ScanRunStatus.Cancelled);
            var failed = shards.FirstOrDefault(s => s.Status == ScanRunStatus.Failed);
            if (!cancelled && failed is null && run.ScanProfile?.ServiceDetection == true)
            {
                await UpdateAsync(runId, r => r.Phase = "service-detection", cancellationToken);
                await DetectServicesAsync(runId, run.ScanProfile.VersionIntensity, anomalous, cancellationToken);
            }
            await UpdateAsync(runId, r => r.Phase = "triage", cancellationToken);
            var summary = await triage.ApplyRunAsync(runId, mayClose: !cancelled && failed is null, Now, cancellationToken);
            logger.LogInformation("Scan run {RunId} changes: {New} new, {Reopened} reopened, {Closed} closed, {Changed} service changes, {Lost} target(s) lost",
                runId, summary.New, summary.Reopened, summary.Closed, summary.ServiceChanged, summary.CoverageLostTargets);
            await TrendRecorder.RecordAsync(dbFactory, Now, cancellationToken);
            await UpdateAsync(runId, r => r.Phase = "alerts", cancellationToken);
            try
            {
                await alerts.ProcessRunAsync(runId, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The scan's results stand; the alert failure is on record and in the log.
                logger.LogError(ex, "Alerts for scan run {RunId} failed", runId);
                await UpdateAsync(runId, r => r.Notes = string.Join('\n', new[] { r.Notes, $"alerts failed: {ex.Message}" }.Where(n => n is not null)), CancellationToken.None);
            }
            await using var done = await dbFactory.CreateDbContextAsync(cancellationToken);
            var final = await done.ScanRuns.SingleAsync(r => r.Id == runId, cancellationToken);
            final.Status = failed is not null ? ScanRunStatus.Failed : cancelled ? ScanRunStatus.Cancelled : ScanRunStatus.Completed;
            final.Error = failed?.Error;
            final.Phase = null;
            final.FinishedAt = Now;
            final.PacketsSent = shards.Sum(s => s.PacketsSent);
            final.RepliesReceived = shards.Sum(s => s.RepliesReceived);
            final.ClosedCount = shards.Sum(s => s.ClosedCount);
            final.FilteredCount = shards.Sum(s => s.FilteredCount);
            final.OpenCount = await done.PortObservations.CountAsync(o => o.ScanRunId == runId && o.State == Data.Entities.PortState.Open, cancellationToken);
            await done.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Scan run {RunId} {Status}: {Open} open in {Shards} shard(s){Error}", runId, final.Status, final.OpenCount, shards.Count,
                final.Error is null ? "" : $" ({final.Error})");
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Scan run {RunId} could not be finalised", runId);
            await UpdateAsync(runId, r =>
            {
                r.Status = ScanRunStatus.Failed;
                r.Error = $"finalising failed: {ex.Message}";
                r.Phase = null;
                r.FinishedAt = Now;
            }, CancellationToken.None);
        }
        finally
        {
            notifier.Forget(runId);
            notifier.PublishRunChanged(runId);
        }
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private async Task DiscoverAsync(RunState state, PortSet ports, ScanEngineKind engine, ScanOptions options, ScheduleWindow? window, CancellationToken cancellationToken)
    {
        var lastCheckpoint = DateTime.MinValue;
        var progress = new SynchronousProgress<ScanProgress>(p =>
        {
            notifier.Publish(new RunProgress(state.RunId, "discovery", p.Sent, p.TotalProbes, p.Received, p.PacketsPerSecond, p.EstimatedRemaining, p.OpenFound + state.PreviouslyOpen));
            state.Checkpoint = p.CheckpointPosition;
            state.Sent = p.Sent;
            if (p.Sent + options.StartPosition >= p.TotalProbes)
                state.SendingDone(); // from here on a silent target is only being waited for (see RunState.Coverage)
        });
        var useSyn = engine switch
        {
            ScanEngineKind.Syn => true,
            ScanEngineKind.Connect => false,
            _ => RawSocketTransport.IsAvailable(out _) && state.Targets.Ranges.All(r => r.Family == AddressFamily.InterNetwork),
        };
        if (ports.Tcp.Count > 0)
        {
            IAsyncEnumerable<PortResult> tcp;
            RawSocketTransport? transport = null;
            if (useSyn)
            {
                transport = new RawSocketTransport(options.SourcePort);
                tcp = new SynScanner(transport).ScanAsync(state.Targets, ports.Tcp, options, progress, cancellationToken);
            }
            else
            {
                tcp = new ConnectScanner().ScanAsync(state.Targets, ports.Tcp, options, progress, cancellationToken);
            }
            try
            {
                await foreach (var result in tcp)
                {
                    state.Record(result);
                    if (state.Pending >= scanningOptions.Value.PersistBatchSize || Now - lastCheckpoint > CheckpointInterval)
                    {
                        await state.FlushAsync(dbFactory, Now, CancellationToken.None);
                        await SaveCheckpointAsync(state);
                        lastCheckpoint = Now;
                        if (window is not null && !window.IsOpen(clock.GetUtcNow()))
                            throw new WindowClosedException(window.NextOpening(clock.GetUtcNow()));
                    }
                }
            }
            finally
            {
                transport?.Dispose();
            }
            state.SendingDone();
        }
        if (ports.Udp.Count > 0)
        {
            var udp = new UdpScanner();
            await foreach (var result in udp.ScanAsync(state.Targets, ports.Udp, options with { StartPosition = 0 }, cancellationToken))
                state.Record(result);
        }
        await SaveCheckpointAsync(state);
    }

    private async Task SaveCheckpointAsync(RunState state)
    {
        await SaveCoverageAsync(state, final: null);
        await UpdateShardAsync(state.ShardId, s =>
        {
            s.CheckpointPosition = (long)state.Checkpoint;
            s.PacketsSent = (long)state.Sent;
            s.RepliesReceived = state.Answered;
            s.ClosedCount = state.Closed;
            s.FilteredCount = state.Filtered;
        }, CancellationToken.None);
        // The run's counters are the shards' sum; kept current for the Scans page.
        await using var db = await dbFactory.CreateDbContextAsync();
        var sums = await db.ScanShards.Where(s => s.ScanRunId == state.RunId)
            .GroupBy(s => s.ScanRunId)
            .Select(g => new { Sent = g.Sum(s => s.PacketsSent), Answered = g.Sum(s => s.RepliesReceived), Closed = g.Sum(s => s.ClosedCount), Filtered = g.Sum(s => s.FilteredCount) })
            .SingleAsync();
        var open = await db.PortObservations.CountAsync(o => o.ScanRunId == state.RunId && o.State == Data.Entities.PortState.Open);
        await db.ScanRuns.Where(r => r.Id == state.RunId).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.PacketsSent, sums.Sent)
            .SetProperty(r => r.RepliesReceived, sums.Answered)
            .SetProperty(r => r.ClosedCount, sums.Closed)
            .SetProperty(r => r.FilteredCount, sums.Filtered)
            .SetProperty(r => r.OpenCount, open)
            .SetProperty(r => r.CheckpointPosition, (long)state.Checkpoint));
    }

    /// <param name="skip">Addresses not to probe: hosts that answered on too many ports (a tarpit would eat the whole budget).</param>
    private async Task DetectServicesAsync(long runId, int intensity, HashSet<string> skip, CancellationToken cancellationToken)
    {
        List<PortObservation> open;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            open = await db.PortObservations.AsNoTracking()
                .Where(o => o.ScanRunId == runId && o.Protocol == TransportProtocol.Tcp && o.State == Data.Entities.PortState.Open && o.Service == null)
                .ToListAsync(cancellationToken);
        }
        open.RemoveAll(o => skip.Contains(o.Address));
        if (open.Count == 0)
            return;
        var runner = new ServiceProbeRunner(probes.Get(), new ProbeRunnerOptions { Intensity = intensity });
        var byEndpoint = open.ToDictionary(o => (o.Address, o.Port));
        await foreach (var report in runner.ProbeManyAsync(open.Select(o => new IPEndPoint(IPAddress.Parse(o.Address), o.Port)), cancellationToken))
        {
            if (!byEndpoint.TryGetValue((report.Endpoint.Address.ToString(), report.Endpoint.Port), out var observation))
                continue;
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            db.ServiceInfos.Add(ServiceInfoMapper.From(report, observation.Id));
            await db.SaveChangesAsync(CancellationToken.None);
        }
    }

    private Timer WatchForCancelRequest(long runId, CancellationTokenSource cancel)
    {
        return new Timer(_ =>
        {
            try
            {
                using var db = dbFactory.CreateDbContext();
                if (db.ScanRuns.Where(r => r.Id == runId).Select(r => r.CancelRequestedAt).FirstOrDefault() is not null)
                    cancel.Cancel();
            }
            catch (Exception ex) when (ex is InvalidOperationException or DbUpdateException or ObjectDisposedException or System.Data.Common.DbException)
            {
                logger.LogWarning(ex, "Could not check run {RunId} for a cancel request", runId);
            }
        }, null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));
    }

    private async Task<HashSet<(string, int, TransportProtocol)>> ExistingOpenKeysAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId)
            .Select(o => new { o.AddressKey, o.Port, o.Protocol }).ToListAsync(cancellationToken);
        return rows.Select(o => (o.AddressKey, o.Port, o.Protocol)).ToHashSet();
    }

    private async Task FinishShardAsync(long shardId, RunState state, ScanRunStatus status, string? error, TargetCoverageStatus coverage)
    {
        await SaveCoverageAsync(state, coverage);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var shard = await db.ScanShards.SingleAsync(s => s.Id == shardId);
        shard.Status = status;
        shard.Error = error;
        shard.FinishedAt = Now;
        shard.PacketsSent = (long)state.Sent;
        shard.RepliesReceived = state.Answered;
        shard.ClosedCount = state.Closed;
        shard.FilteredCount = state.Filtered;
        await db.SaveChangesAsync();
    }

    /// <summary>Writes (or updates) one coverage row per target of the shard: Pending at checkpoints, final at the end.</summary>
    private async Task SaveCoverageAsync(RunState state, TargetCoverageStatus? final)
    {
        var rows = state.Coverage(final).ToList();
        var keys = rows.Select(r => r.AddressKey).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var existing = await db.ScanTargetCoverage.Where(c => c.ScanRunId == state.RunId && keys.Contains(c.AddressKey)).ToDictionaryAsync(c => c.AddressKey);
        foreach (var row in rows)
        {
            if (existing.TryGetValue(row.AddressKey, out var stored))
            {
                stored.PortsAnswered = row.PortsAnswered;
                stored.Status = row.Status;
                stored.Note = row.Note;
            }
            else
            {
                db.ScanTargetCoverage.Add(row);
            }
        }
        await db.SaveChangesAsync();
    }

    /// <summary>Answers counted for these targets by earlier attempts of the run (before a crash or a takeover).</summary>
    private async Task<Dictionary<string, long>> AnsweredBeforeAsync(long runId, TargetSet targets, CancellationToken cancellationToken)
    {
        var keys = Enumerable.Range(0, (int)Math.Min(targets.Count, int.MaxValue)).Select(i => IpKey.From(targets.AddressAt((ulong)i))).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ScanTargetCoverage.Where(c => c.ScanRunId == runId && keys.Contains(c.AddressKey))
            .ToDictionaryAsync(c => c.AddressKey, c => (long)c.PortsAnswered, cancellationToken);
    }

    private async Task UpdateShardAsync(long shardId, Action<ScanShard> change, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var shard = await db.ScanShards.SingleAsync(s => s.Id == shardId, cancellationToken);
        change(shard);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task FailAsync(long runId, string error)
    {
        await UpdateAsync(runId, r =>
        {
            r.Status = ScanRunStatus.Failed;
            r.Error = error;
            r.StartedAt ??= Now;
            r.FinishedAt = Now;
            r.Node = NodeId;
        }, CancellationToken.None);
        notifier.PublishRunChanged(runId);
        logger.LogWarning("Scan run {RunId} failed: {Error}", runId, error);
    }

    private async Task UpdateAsync(long runId, Action<ScanRun> change, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.ScanRuns.SingleAsync(r => r.Id == runId, cancellationToken);
        change(run);
        await db.SaveChangesAsync(cancellationToken);
    }
}
