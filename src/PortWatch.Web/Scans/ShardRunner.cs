using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Syn;
using PortWatch.Scanning.Transport;
using PortWatch.Scanning.Udp;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Metrics;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Scans;

/// <summary>
/// One shard of a run on this node: claims it (a queued shard, or a running one whose node's
/// heartbeat has expired), takes its share of the rate budget, runs the engine from the shard's
/// checkpoint and saves results, counters and the checkpoint every couple of seconds.
/// </summary>
/// <remarks>
/// Concurrency: a shard has one owner, the node named in its row whose heartbeat is fresh. Every
/// write of the owner after the claim is conditional on still being the owner; a node that finds
/// itself replaced (it stalled longer than Scanning:LeaseSeconds) stops without writing. Results
/// are deduplicated on (run, address, port, protocol), so a result found by both is stored once.
/// </remarks>
public sealed class ShardRunner(
    RunPlanner planner,
    RunStore store,
    IOptions<ScanningOptions> scanningOptions,
    RateBudget budget,
    ScanProgressNotifier notifier,
    ScanQueue queue,
    RunFinalizer finalizer,
    ResolvedDatabase database,
    TimeProvider clock,
    ILogger<ShardRunner> logger)
{
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task RunAsync(long runId, int shardIndex, CancellationToken shutdown)
    {
        if (await planner.PlanAsync(runId, shutdown) is not { } plan)
            return;
        ScanShard shard;
        await using (var db = await store.Contexts.CreateDbContextAsync(shutdown))
            shard = await db.ScanShards.AsNoTracking().SingleAsync(s => s.ScanRunId == runId && s.Index == shardIndex, shutdown);
        if (shard.Status is not (ScanRunStatus.Queued or ScanRunStatus.Running))
        {
            await finalizer.TryFinalizeAsync(runId, shutdown);
            return;
        }
        if (plan.Run.CancelRequestedAt is not null)
        {
            // Cancelled before this shard started (or while its node was gone): it never starts.
            await store.WriteAsync($"shard {shard.Id}", db => db.ScanShards
                .Where(s => s.Id == shard.Id && (s.Status == ScanRunStatus.Queued || s.Status == ScanRunStatus.Running))
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, ScanRunStatus.Cancelled).SetProperty(s => s.FinishedAt, Now).SetProperty(s => s.GrantedRatePps, 0)), shutdown);
            await finalizer.TryFinalizeAsync(runId, shutdown);
            return;
        }
        if (!await ClaimAsync(shard, shutdown))
        {
            logger.LogInformation("Scan run {RunId} shard {Shard} is running on {Node}; not started here", runId, shardIndex, shard.Node);
            return;
        }
        await using (var db = await store.Contexts.CreateDbContextAsync(shutdown))
            shard = await db.ScanShards.AsNoTracking().SingleAsync(s => s.Id == shard.Id, shutdown);
        var resumed = shard.CheckpointPosition is > 0;
        if (resumed)
            await store.UpdateRunAsync(runId, r => r.ResumeCount++, shutdown);

        var targets = plan.Targets.Slice((ulong)shard.FirstTarget, (ulong)shard.TargetCount);
        var startPosition = resumed ? (ulong)shard.CheckpointPosition!.Value : 0;
        var before = resumed ? new ShardCounters(shard.PacketsSent, shard.RepliesReceived, shard.ClosedCount, shard.FilteredCount) : default;
        var state = new RunState(runId, targets, plan.PortsPerTarget, await ExistingOpenKeysAsync(runId, shutdown),
            resumed ? await AnsweredBeforeAsync(runId, targets, shutdown) : null)
        {
            ShardId = shard.Id,
            Before = before,
            Checkpoint = startPosition,
        };
        var work = new ShardWork(shard.Id, shardIndex, state);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        try
        {
            await using var heartbeat = StartHeartbeat(runId, work, cancel);
            await using var lease = await budget.AcquireAsync(shard.Id, plan.Profile.RatePps, cancel.Token);
            var profile = plan.Profile;
            var engineOptions = new ScanOptions
            {
                RatePps = lease.PacketsPerSecond,
                Retries = profile.Retries,
                Timeout = TimeSpan.FromMilliseconds(profile.TimeoutMs),
                SourcePort = checked((ushort)scanningOptions.Value.SourcePort), // validated at start: 1024..65535
                Seed = (ulong)(plan.Run.PermutationSeed ?? 1) ^ (ulong)shardIndex,
                StartPosition = startPosition,
                // Coverage accounting counts each target's answers and silences (RunState).
                ReportClosed = true,
                ReportFiltered = true,
            };
            // Fired while its window is closed (a recovered job, a restart): not one probe until it opens.
            if (plan.Window is { } window && !window.IsOpen(clock.GetUtcNow()))
                throw new WindowClosedException(window.NextOpening(clock.GetUtcNow()));
            logger.LogInformation("Scan run {RunId} shard {Shard}: {Targets} target(s) x {Ports} port(s) at {Rate}/s{Resumed}", runId, shardIndex,
                targets.Count, state.PortsPerTarget, lease.PacketsPerSecond, resumed ? $", resumed at probe {startPosition}" : "");
            await DiscoverAsync(work, plan, engineOptions, cancel.Token);
            state.CommitAll();
            await FlushAsync(work, CancellationToken.None);
            // A sentinel pass covers a few ports of each host: never full coverage (it would become the host's baseline).
            await FinishAsync(work, ScanRunStatus.Completed, null, plan.Run.Trigger.IsTargetedCheck() ? TargetCoverageStatus.Partial : TargetCoverageStatus.Complete);
        }
        catch (WindowClosedException closed) when (!work.LeaseLost)
        {
            // Outside the schedule's window: keep the place, continue when it reopens.
            await FlushAsync(work, CancellationToken.None);
            await SaveCheckpointAsync(work, CancellationToken.None);
            await ReleaseAsync(work);
            await store.UpdateRunAsync(runId, r =>
            {
                r.Phase = RunPhase.Paused;
                r.PausedUntil = closed.Reopens.UtcDateTime;
            }, CancellationToken.None);
            await queue.ContinueLaterAsync(ScanJob.KeyFor(runId, shardIndex), closed.Reopens, CancellationToken.None);
            logger.LogInformation("Scan run {RunId} shard {Shard} paused: {Reason}", runId, shardIndex, closed.Message);
            return;
        }
        catch (OperationCanceledException) when (work.LeaseLost)
        {
            logger.LogWarning("Scan run {RunId} shard {Shard}: another node took it over while this one stalled; stopped here", runId, shardIndex);
            return;
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            // Cancelled on request: keep what was found, mark the coverage partial.
            state.CommitAll();
            await FlushAsync(work, CancellationToken.None);
            await FinishAsync(work, ScanRunStatus.Cancelled, null, TargetCoverageStatus.Partial);
        }
        catch (OperationCanceledException)
        {
            // The node is shutting down: keep the checkpoint and give the shard up, so a node can resume it at once.
            await FlushAsync(work, CancellationToken.None);
            await SaveCheckpointAsync(work, CancellationToken.None);
            await ReleaseAsync(work);
            throw;
        }
        catch (Exception ex) when (!work.LeaseLost)
        {
            logger.LogError(ex, "Scan run {RunId} shard {Shard} failed", runId, shardIndex);
            state.CommitAll();
            await FlushAsync(work, CancellationToken.None);
            await FinishAsync(work, ScanRunStatus.Failed, ex.Message, TargetCoverageStatus.Partial);
        }
        finally
        {
            notifier.ForgetShard(runId, shardIndex);
            notifier.PublishRunChanged(runId);
        }
        if (!work.LeaseLost)
            await finalizer.TryFinalizeAsync(runId, CancellationToken.None);
    }

    /// <summary>What one attempt at a shard works with; <see cref="LeaseLost"/> is set when another node has taken the shard.</summary>
    private sealed class ShardWork(long shardId, int index, RunState state)
    {
        public long ShardId { get; } = shardId;

        public int Index { get; } = index;

        public RunState State { get; } = state;

        public volatile bool LeaseLost;
    }

    /// <summary>Takes the shard when it is queued or its owner's heartbeat has expired; false when a live node has it.</summary>
    private async Task<bool> ClaimAsync(ScanShard shard, CancellationToken cancellationToken)
    {
        var now = Now;
        var expired = now - TimeSpan.FromSeconds(scanningOptions.Value.LeaseSeconds);
        var resumed = shard.Status == ScanRunStatus.Running && shard.CheckpointPosition is > 0;
        // SQLite has exactly one node: a shard recorded under another node id belongs to a process that is gone.
        var singleNode = database.Provider == DatabaseProvider.Sqlite;
        var claimed = await store.WriteAsync($"claim of shard {shard.Id}", db => db.ScanShards
            .Where(s => s.Id == shard.Id && (s.Status == ScanRunStatus.Queued
                || (s.Status == ScanRunStatus.Running && (s.HeartbeatAt == null || s.HeartbeatAt < expired || (singleNode && s.Node != ClusterNode.Id)))))
            .ExecuteUpdateAsync(u => u
                .SetProperty(s => s.Status, ScanRunStatus.Running)
                .SetProperty(s => s.Node, ClusterNode.Id)
                .SetProperty(s => s.HeartbeatAt, now)
                .SetProperty(s => s.StartedAt, s => s.StartedAt ?? now)
                .SetProperty(s => s.GrantedRatePps, 0)
                .SetProperty(s => s.ResumeCount, s => resumed ? s.ResumeCount + 1 : s.ResumeCount)), cancellationToken);
        return claimed == 1;
    }

    /// <summary>
    /// Every fifth of the lease: renews the shard's heartbeat (stopping the work when another node
    /// has taken the shard) and looks for a cancel request made on any node.
    /// </summary>
    private AsyncTimer StartHeartbeat(long runId, ShardWork work, CancellationTokenSource cancel)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, scanningOptions.Value.LeaseSeconds / 5.0));
        return new AsyncTimer(interval, clock, async () =>
        {
            try
            {
                await using var db = await store.Contexts.CreateDbContextAsync();
                if (await db.ScanRuns.Where(r => r.Id == runId).Select(r => r.CancelRequestedAt).FirstOrDefaultAsync() is not null)
                    await cancel.CancelAsync();
                var renewed = await db.ScanShards.Where(s => s.Id == work.ShardId && s.Node == ClusterNode.Id && s.Status == ScanRunStatus.Running)
                    .ExecuteUpdateAsync(u => u.SetProperty(s => s.HeartbeatAt, Now));
                if (renewed == 0)
                {
                    work.LeaseLost = true;
                    await cancel.CancelAsync();
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database refuses: the scan goes on (its writes wait and retry); the lease may expire meanwhile.
                logger.LogWarning("Scan run {RunId} shard {Shard}: heartbeat failed: {Error}", runId, work.Index, DatabaseWriteHealth.Describe(ex));
            }
        }, logger);
    }

    private async Task DiscoverAsync(ShardWork work, RunPlan plan, ScanOptions options, CancellationToken cancellationToken)
    {
        var state = work.State;
        var lastCheckpoint = DateTime.MinValue;
        ulong countedSent = 0, countedAnswered = 0;
        var lastRate = options.RatePps;
        var progress = new SynchronousProgress<ScanProgress>(p =>
        {
            if (p.Rate != lastRate && p.Rate > 0)
            {
                logger.LogInformation("Scan run {RunId} shard {Shard}: rate {Rate}/s: {Why}", state.RunId, work.Index, p.Rate, p.RateReason ?? "back at the configured rate");
                lastRate = p.Rate;
            }
            if (p.Sent > countedSent)
                PortWatchMetrics.ProbesSent.Add((long)(p.Sent - countedSent));
            if (p.Received > countedAnswered)
                PortWatchMetrics.ProbesAnswered.Add((long)(p.Received - countedAnswered));
            (countedSent, countedAnswered) = (Math.Max(countedSent, p.Sent), Math.Max(countedAnswered, p.Received));
            notifier.Publish(new RunProgress(state.RunId, work.Index, RunPhases.Label(RunPhase.Discovery), options.StartPosition + p.Probed, p.TotalProbes,
                (ulong)state.Before.Answered + p.Received, p.PacketsPerSecond, p.EstimatedRemaining, p.OpenFound + state.PreviouslyOpen));
            state.Checkpoint = Math.Max(state.Checkpoint, p.CheckpointPosition);
            state.Sent = p.Sent;
            if (p.Probed + options.StartPosition >= p.TotalProbes)
                state.SendingDone(); // from here on a silent target is only being waited for (see RunState.Coverage)
        });
        var useSyn = ScanResultMapping.ToEngine(plan.Profile.Engine) switch
        {
            ScanEngine.Syn => true,
            ScanEngine.Connect => false,
            _ => state.Targets.Ranges.All(r => r.Family == AddressFamily.InterNetwork) ? RawSocketTransport.IsAvailable(out _)
                : state.Targets.Ranges.All(r => r.Family == AddressFamily.InterNetworkV6) && RawSocket6Transport.IsAvailable(out _),
        };
        var ipv6 = state.Targets.Ranges.All(r => r.Family == AddressFamily.InterNetworkV6);
        if (plan.Ports.Tcp.Count > 0 && options.StartPosition < state.Targets.Count * (ulong)plan.Ports.Tcp.Count)
        {
            IAsyncEnumerable<PortResult> tcp;
            IDisposable? transport = null;
            if (useSyn && ipv6)
            {
                var transport6 = new RawSocket6Transport(options.SourcePort, options.Ttl);
                transport = transport6;
                logger.LogInformation("Scan run {RunId} shard {Shard}: probes go through a raw IPv6 socket", state.RunId, work.Index);
                tcp = new SynScanner(transport6).ScanAsync(state.Targets, plan.Ports.Tcp, options, progress, cancellationToken);
            }
            else if (useSyn)
            {
                var sendPath = "raw IPv4 socket (Scanning:SendPath is raw)";
                var transport4 = scanningOptions.Value.SendPath == "raw"
                    ? new RawSocketTransport(options.SourcePort)
                    : PacketSocketTransport.Open(options.SourcePort, scanningOptions.Value.Interface, out sendPath);
                transport = transport4;
                logger.LogInformation("Scan run {RunId} shard {Shard}: probes go through {SendPath}", state.RunId, work.Index, sendPath);
                tcp = new SynScanner(transport4).ScanAsync(state.Targets, plan.Ports.Tcp, options, progress, cancellationToken);
            }
            else
            {
                tcp = new ConnectScanner().ScanAsync(state.Targets, plan.Ports.Tcp, options, progress, cancellationToken);
            }
            try
            {
                await foreach (var result in tcp)
                {
                    state.Record(result);
                    if (state.Pending >= scanningOptions.Value.PersistBatchSize || Now - lastCheckpoint > CheckpointInterval)
                    {
                        await FlushAsync(work, cancellationToken);
                        await SaveCheckpointAsync(work, cancellationToken);
                        lastCheckpoint = Now;
                        if (plan.Window is { } window && !window.IsOpen(clock.GetUtcNow()))
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
        if (plan.Ports.Udp.Count > 0)
        {
            // UDP has no checkpoint of its own: after a resume it starts over, and its counts are kept until it ends (RunState.CommitAll).
            var udp = new UdpScanner();
            // The UDP scanner reports no progress of its own: each result is one port done, so the run's bar and open count keep moving.
            var tcpProbes = state.Targets.Count * (ulong)plan.Ports.Tcp.Count;
            var total = tcpProbes + state.Targets.Count * (ulong)plan.Ports.Udp.Count;
            ulong udpDone = 0;
            var lastPublished = DateTime.MinValue;
            await foreach (var result in udp.ScanAsync(state.Targets, plan.Ports.Udp, options with { StartPosition = 0 }, cancellationToken))
            {
                state.Record(result);
                udpDone++;
                if (Now - lastPublished > TimeSpan.FromMilliseconds(250))
                {
                    lastPublished = Now;
                    notifier.Publish(new RunProgress(state.RunId, work.Index, RunPhases.Label(RunPhase.Discovery), tcpProbes + udpDone, total,
                        (ulong)(state.Before.Answered + state.Answered), 0, null, state.Open + state.PreviouslyOpen));
                }
            }
        }
        await SaveCheckpointAsync(work, cancellationToken);
    }

    /// <summary>Writes the open observations found since the last flush; ones another attempt stored already are skipped.</summary>
    private async Task FlushAsync(ShardWork work, CancellationToken cancellationToken)
    {
        var batch = work.State.PendingObservations.ToList();
        if (batch.Count == 0)
            return;
        await store.WriteAsync($"results of shard {work.ShardId}", async db =>
        {
            var now = Now;
            foreach (var observation in batch)
            {
                observation.Id = 0;
                observation.ObservedAt = now;
            }
            db.PortObservations.AddRange(batch);
            try
            {
                await db.SaveChangesAsync();
            }
            catch (DbUpdateException ex) when (!DatabaseWriteHealth.IsTransient(ex))
            {
                // Stored by another attempt meanwhile (a takeover): keep only the missing ones.
                db.ChangeTracker.Clear();
                var runId = work.State.RunId;
                var keys = batch.Select(o => o.AddressKey).Distinct().ToList();
                var existing = (await db.PortObservations.Where(o => o.ScanRunId == runId && keys.Contains(o.AddressKey))
                    .Select(o => new { o.AddressKey, o.Port, o.Protocol }).ToListAsync()).Select(o => (o.AddressKey, o.Port, o.Protocol)).ToHashSet();
                db.PortObservations.AddRange(batch.Where(o => !existing.Contains((o.AddressKey, o.Port, o.Protocol))).Select(o => { o.Id = 0; return o; }));
                await db.SaveChangesAsync();
            }
        }, cancellationToken);
        work.State.ClearPending();
    }

    /// <summary>
    /// Saves the checkpoint with the counters and the targets' coverage that belong to it, in one
    /// transaction (a crash between them would count the probes after the older checkpoint twice),
    /// then the run's sums for the pages.
    /// </summary>
    private async Task SaveCheckpointAsync(ShardWork work, CancellationToken cancellationToken)
    {
        var state = work.State;
        var checkpoint = state.Checkpoint;
        state.CommitThrough(checkpoint);
        var counters = state.Committed;
        var now = Now;
        var saved = await SaveShardAsync(work, null, shards => shards.ExecuteUpdateAsync(u => u
            .SetProperty(s => s.CheckpointPosition, (long)checkpoint)
            .SetProperty(s => s.PacketsSent, counters.Sent)
            .SetProperty(s => s.RepliesReceived, counters.Answered)
            .SetProperty(s => s.ClosedCount, counters.Closed)
            .SetProperty(s => s.FilteredCount, counters.Filtered)
            .SetProperty(s => s.HeartbeatAt, now)), cancellationToken);
        if (!saved)
        {
            work.LeaseLost = true;
            throw new OperationCanceledException("another node has taken the shard over");
        }
        await store.WriteAsync($"sums of run {state.RunId}", async db =>
        {
            var sums = await db.ScanShards.Where(s => s.ScanRunId == state.RunId)
                .GroupBy(s => s.ScanRunId)
                .Select(g => new
                {
                    Sent = g.Sum(s => s.PacketsSent), Answered = g.Sum(s => s.RepliesReceived), Closed = g.Sum(s => s.ClosedCount),
                    Filtered = g.Sum(s => s.FilteredCount), Checkpoints = g.Sum(s => s.CheckpointPosition ?? 0),
                })
                .SingleAsync();
            var open = await db.PortObservations.CountAsync(o => o.ScanRunId == state.RunId && o.State == PortState.Open);
            await db.ScanRuns.Where(r => r.Id == state.RunId).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.PacketsSent, sums.Sent)
                .SetProperty(r => r.RepliesReceived, sums.Answered)
                .SetProperty(r => r.ClosedCount, sums.Closed)
                .SetProperty(r => r.FilteredCount, sums.Filtered)
                .SetProperty(r => r.OpenCount, open)
                .SetProperty(r => r.CheckpointPosition, sums.Checkpoints)
                .SetProperty(r => r.Phase, r => r.Phase == RunPhase.Paused ? RunPhase.Discovery : r.Phase)
                .SetProperty(r => r.PausedUntil, r => r.Phase == RunPhase.Paused ? null : r.PausedUntil));
        }, cancellationToken);
    }

    /// <summary>Gives the shard up (shutdown, pause) so another node, or this one later, may continue it at once.</summary>
    private Task<int> ReleaseAsync(ShardWork work) =>
        store.WriteAsync($"release of shard {work.ShardId}", db => db.ScanShards
            .Where(s => s.Id == work.ShardId && s.Node == ClusterNode.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.HeartbeatAt, (DateTime?)null).SetProperty(s => s.GrantedRatePps, 0)), CancellationToken.None);

    private async Task FinishAsync(ShardWork work, ScanRunStatus status, string? error, TargetCoverageStatus coverage)
    {
        var state = work.State;
        var counters = state.Committed;
        var text = error is { Length: > 4000 } ? error[..4000] : error;
        var now = Now;
        await SaveShardAsync(work, coverage, shards => shards.ExecuteUpdateAsync(u => u
            .SetProperty(s => s.Status, status)
            .SetProperty(s => s.Error, text)
            .SetProperty(s => s.FinishedAt, now)
            .SetProperty(s => s.CheckpointPosition, (long)state.Checkpoint)
            .SetProperty(s => s.PacketsSent, counters.Sent)
            .SetProperty(s => s.RepliesReceived, counters.Answered)
            .SetProperty(s => s.ClosedCount, counters.Closed)
            .SetProperty(s => s.FilteredCount, counters.Filtered)
            .SetProperty(s => s.GrantedRatePps, 0)), CancellationToken.None);
    }

    /// <summary>
    /// One transaction: the shard's coverage rows (Pending at checkpoints, final at the end) and the
    /// shard row's <paramref name="update"/>, both only while this node owns the shard. False when it does not.
    /// </summary>
    private Task<bool> SaveShardAsync(ShardWork work, TargetCoverageStatus? final, Func<IQueryable<ScanShard>, Task<int>> update,
        CancellationToken cancellationToken)
    {
        var state = work.State;
        var rows = state.Coverage(final).ToList();
        var keys = rows.Select(r => r.AddressKey).ToList();
        return store.WriteAsync($"progress of shard {work.ShardId}", async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var owned = db.ScanShards.Where(s => s.Id == work.ShardId && s.Node == ClusterNode.Id && s.Status == ScanRunStatus.Running);
            if (await update(owned) == 0)
                return false;
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
                    db.ScanTargetCoverage.Add(new ScanTargetCoverage
                    {
                        ScanRunId = row.ScanRunId, Address = row.Address, AddressKey = row.AddressKey, PortsPlanned = row.PortsPlanned,
                        PortsAnswered = row.PortsAnswered, Status = row.Status, Note = row.Note,
                    });
                }
            }
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
            return true;
        }, cancellationToken);
    }

    private async Task<HashSet<(string, int, TransportProtocol)>> ExistingOpenKeysAsync(long runId, CancellationToken cancellationToken)
    {
        await using var db = await store.Contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.PortObservations.AsNoTracking().Where(o => o.ScanRunId == runId)
            .Select(o => new { o.AddressKey, o.Port, o.Protocol }).ToListAsync(cancellationToken);
        return rows.Select(o => (o.AddressKey, o.Port, o.Protocol)).ToHashSet();
    }

    /// <summary>Answers counted for these targets by earlier attempts of the shard (before a crash or a takeover), as saved with its checkpoint.</summary>
    private async Task<Dictionary<string, long>> AnsweredBeforeAsync(long runId, Scanning.Targets.TargetSet targets, CancellationToken cancellationToken)
    {
        var keys = Enumerable.Range(0, (int)Math.Min(targets.Count, int.MaxValue)).Select(i => IpKey.From(targets.AddressAt((ulong)i))).ToList();
        await using var db = await store.Contexts.CreateDbContextAsync(cancellationToken);
        return await db.ScanTargetCoverage.Where(c => c.ScanRunId == runId && keys.Contains(c.AddressKey))
            .ToDictionaryAsync(c => c.AddressKey, c => (long)c.PortsAnswered, cancellationToken);
    }
}
