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
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortStatus = PortWatch.Scanning.PortStatus;

namespace PortWatch.Web.Jobs;

/// <summary>
/// One scan run from start to end: discovery (the engine) → service detection on open ports →
/// persistence in batches → findings → done. Progress and a resume checkpoint are saved as it
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
    TimeProvider clock,
    ILogger<ScanPipeline> logger)
{
    public static readonly string NodeId = $"{Environment.MachineName}:{Environment.ProcessId}";
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(2);

    /// <summary>Engine seam for tests: socket factory for connect/UDP scans (default: plain sockets).</summary>
    public Func<AddressFamily, SocketType, ProtocolType, Socket>? SocketFactory { get; set; }

    public async Task RunAsync(long runId, CancellationToken shutdown)
    {
        ScanRun run;
        await using (var db = await dbFactory.CreateDbContextAsync(shutdown))
        {
            run = await db.ScanRuns.AsNoTracking().Include(r => r.ScanProfile).SingleOrDefaultAsync(r => r.Id == runId, shutdown)
                ?? throw new InvalidOperationException($"scan run {runId} does not exist");
        }
        if (run.Status is ScanRunStatus.Completed or ScanRunStatus.Failed or ScanRunStatus.Cancelled)
            return; // already finished: a duplicate fire after recovery

        var options = scanningOptions.Value;
        var profile = run.ScanProfile;
        ScheduleWindow? window = null;
        if (run.ScheduleId is { } scheduleId)
        {
            await using var db = await dbFactory.CreateDbContextAsync(shutdown);
            if (await db.Schedules.AsNoTracking().SingleOrDefaultAsync(s => s.Id == scheduleId, shutdown) is { } schedule)
                window = ScheduleWindow.Of(schedule);
        }
        TargetSet targets;
        PortSet ports;
        try
        {
            if (profile is null)
                throw new TargetSpecException("", "the run has no scan profile");
            targets = TargetSet.Create([run.TargetSpec]);
            new ScopeGuard(options.AllowedScope).Check(targets);
            var tcp = profile.TcpEnabled ? PortSet.Parse(profile.TcpPorts).Tcp : [];
            var udp = profile.UdpEnabled && !string.IsNullOrWhiteSpace(profile.UdpPorts) ? PortSet.Parse(profile.UdpPorts, PortProtocol.Udp).Udp : [];
            ports = new PortSet(tcp, udp);
            if (ports.Tcp.Count + ports.Udp.Count == 0)
                throw new TargetSpecException(profile.TcpPorts, "the profile selects no ports");
        }
        catch (TargetSpecException ex)
        {
            await FailAsync(runId, $"Cannot scan: {ex.Message}");
            return;
        }

        var resumed = run.Status == ScanRunStatus.Running && run.CheckpointPosition is > 0;
        var seed = run.PermutationSeed ?? Random.Shared.NextInt64(1, long.MaxValue);
        await UpdateAsync(runId, r =>
        {
            r.Status = ScanRunStatus.Running;
            r.StartedAt ??= Now;
            r.Node = NodeId;
            r.Phase = "discovery";
            r.PermutationSeed = seed;
            r.TargetCount = (long)targets.Count;
            r.PortCount = ports.Tcp.Count + ports.Udp.Count;
            r.Error = null;
            if (resumed)
                r.ResumeCount++;
        }, shutdown);
        notifier.PublishRunChanged(runId);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var state = new RunState(run.Id, targets, ports.Tcp.Count + ports.Udp.Count, await ExistingOpenKeysAsync(runId, shutdown));
        try
        {
            using var watcher = WatchForCancelRequest(runId, cancel);
            using var lease = await budget.AcquireAsync(profile!.RatePps, cancel.Token);
            var engineOptions = new ScanOptions
            {
                RatePps = lease.PacketsPerSecond,
                Retries = profile.Retries,
                Timeout = TimeSpan.FromMilliseconds(profile.TimeoutMs),
                SourcePort = (ushort)options.SourcePort,
                Seed = (ulong)seed,
                StartPosition = resumed ? (ulong)run.CheckpointPosition!.Value : 0,
            };
            logger.LogInformation("Scan run {RunId}: {Targets} target(s) x {Ports} port(s) at {Rate}/s{Resumed}", runId, targets.Count,
                state.PortsPerTarget, lease.PacketsPerSecond, resumed ? $", resumed at probe {engineOptions.StartPosition}" : "");

            await DiscoverAsync(state, ports, profile.Engine, engineOptions, window, cancel.Token);
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);

            if (profile.ServiceDetection)
            {
                await UpdateAsync(runId, r => r.Phase = "service-detection", CancellationToken.None);
                await DetectServicesAsync(runId, profile.VersionIntensity, cancel.Token);
            }
            await UpdateAsync(runId, r => r.Phase = "findings", CancellationToken.None);
            await FindingUpdater.ApplyAsync(dbFactory, runId, state.CompleteTargets(), Now, CancellationToken.None);
            await FinishAsync(runId, state, ScanRunStatus.Completed, null, complete: true);
        }
        catch (WindowClosedException closed)
        {
            // Outside the schedule's window: keep the place, continue when it reopens.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await SaveCheckpointAsync(state);
            await UpdateAsync(runId, r => r.Phase = $"paused until {closed.Reopens:yyyy-MM-dd HH:mm zzz}", CancellationToken.None);
            await queue.ContinueLaterAsync(runId, closed.Reopens, CancellationToken.None);
            logger.LogInformation("Scan run {RunId} paused: {Reason}", runId, closed.Message);
        }
        catch (OperationCanceledException) when (!shutdown.IsCancellationRequested)
        {
            // Cancelled on request: keep what was found, mark the coverage partial.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await FindingUpdater.ApplyAsync(dbFactory, runId, [], Now, CancellationToken.None);
            await FinishAsync(runId, state, ScanRunStatus.Cancelled, null, complete: false);
        }
        catch (OperationCanceledException)
        {
            // The node is shutting down: keep the checkpoint; the run resumes when a node starts it again.
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await UpdateAsync(runId, r => r.Phase = "interrupted", CancellationToken.None);
            throw;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Scan run {RunId} failed", runId);
            await state.FlushAsync(dbFactory, Now, CancellationToken.None);
            await FinishAsync(runId, state, ScanRunStatus.Failed, ex.Message, complete: false);
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
        var progress = new SynchronousProgress(p =>
        {
            notifier.Publish(new RunProgress(state.RunId, "discovery", p.Sent, p.TotalProbes, p.Received, p.PacketsPerSecond, p.EstimatedRemaining, p.OpenFound + state.PreviouslyOpen));
            state.Checkpoint = p.CheckpointPosition;
            state.Sent = p.Sent;
        });
        var useSyn = engine switch
        {
            ScanEngineKind.Syn => true,
            ScanEngineKind.Connect => false,
            _ => SocketFactory is null && RawSocketTransport.IsAvailable(out _) && state.Targets.Ranges.All(r => r.Family == AddressFamily.InterNetwork),
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
                var factory = SocketFactory;
                tcp = new ConnectScanner(factory is null ? null : family => factory(family, SocketType.Stream, ProtocolType.Tcp))
                    .ScanAsync(state.Targets, ports.Tcp, options, progress, cancellationToken);
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
        }
        if (ports.Udp.Count > 0)
        {
            var factory = SocketFactory;
            var udp = new UdpScanner(factory is null ? null : family => factory(family, SocketType.Dgram, ProtocolType.Udp));
            await foreach (var result in udp.ScanAsync(state.Targets, ports.Udp, options with { StartPosition = 0 }, cancellationToken))
                state.Record(result);
        }
        await SaveCheckpointAsync(state);
    }

    private Task SaveCheckpointAsync(RunState state) => UpdateAsync(state.RunId, r =>
    {
        r.CheckpointPosition = (long)state.Checkpoint;
        r.PacketsSent = (long)state.Sent;
        r.RepliesReceived = state.Answered;
        r.OpenCount = state.PreviouslyOpen + state.Open;
        r.FilteredCount = state.Filtered;
        r.ClosedCount = state.Closed;
    }, CancellationToken.None);

    private async Task DetectServicesAsync(long runId, int intensity, CancellationToken cancellationToken)
    {
        List<PortObservation> open;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            open = await db.PortObservations.AsNoTracking()
                .Where(o => o.ScanRunId == runId && o.Protocol == TransportProtocol.Tcp && o.State == Data.Entities.PortState.Open && o.Service == null)
                .ToListAsync(cancellationToken);
        }
        if (open.Count == 0)
            return;
        var factory = SocketFactory;
        var runner = new ServiceProbeRunner(probes.Get(), new ProbeRunnerOptions { Intensity = intensity },
            factory is null ? null : family => factory(family, SocketType.Stream, ProtocolType.Tcp));
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

    private async Task FinishAsync(long runId, RunState state, ScanRunStatus status, string? error, bool complete)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var run = await db.ScanRuns.Include(r => r.Coverage).SingleAsync(r => r.Id == runId);
        run.Status = status;
        run.Phase = null;
        run.FinishedAt = Now;
        run.Error = error;
        run.PacketsSent = (long)state.Sent;
        run.RepliesReceived = state.Answered;
        run.OpenCount = await db.PortObservations.CountAsync(o => o.ScanRunId == runId && o.State == Data.Entities.PortState.Open);
        run.ClosedCount = state.Closed;
        run.FilteredCount = state.Filtered;
        if (run.Coverage.Count == 0)
            run.Coverage.AddRange(state.Coverage(complete));
        await db.SaveChangesAsync();
        logger.LogInformation("Scan run {RunId} {Status}: {Open} open{Error}", runId, status, run.OpenCount, error is null ? "" : $" ({error})");
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

    /// <summary>Progress&lt;T&gt; would post to the thread pool out of order; the pipeline wants each report in turn.</summary>
    private sealed class SynchronousProgress(Action<ScanProgress> report) : IProgress<ScanProgress>
    {
        public void Report(ScanProgress value) => report(value);
    }
}
