using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Schedules;

namespace PortWatch.Web.Scans;

/// <summary>What a run scans, as every node computes it from the run's row: the same targets, ports and order everywhere.</summary>
public sealed record RunPlan(ScanRun Run, ScanProfile Profile, TargetSet Targets, PortSet Ports, ScheduleWindow? Window)
{
    public int PortsPerTarget => Ports.Tcp.Count + Ports.Udp.Count;
}

/// <summary>Loads and checks a run's plan; shared by the coordinator (which fixes the scope once) and the shard runner.</summary>
public sealed class RunPlanner(RunStore store, IOptions<ScanningOptions> options, ScannerAddresses scannerAddresses, ScanScope scope, ScanProgressNotifier notifier, ILogger<RunPlanner> logger)
{
    /// <summary>The run's plan; null when it has ended already or cannot be scanned (then it is failed, with the reason).</summary>
    public async Task<RunPlan?> PlanAsync(long runId, CancellationToken cancellationToken)
    {
        ScanRun run;
        ScheduleWindow? window = null;
        await using (var db = await store.Contexts.CreateDbContextAsync(cancellationToken))
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
            return new RunPlan(run, profile, targets, new PortSet(tcp, udp), window);
        }
        catch (TargetSpecException ex)
        {
            await FailAsync(runId, $"Cannot scan: {ex.Message}");
            return null;
        }
    }

    /// <summary>
    /// Fixes, once and before any shard exists, what every node must agree on: the scanner's own
    /// addresses left out of the targets (interfaces differ between nodes) and the ports probed.
    /// </summary>
    public async Task<RunPlan?> FixScopeAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var own = settings.ExcludeScannerAddresses ? scannerAddresses.Within(plan.Targets) : [];
        if (own.Count > 0 && plan.Targets.Ranges.All(t => own.Any(o => IpRange.Parse(o).Covers(t))))
        {
            await FailAsync(plan.Run.Id, $"Every target is this scanner's own address ({string.Join(", ", own.Take(10))}); set Scanning:ExcludeScannerAddresses to false to scan it anyway.");
            return null;
        }
        // A sentinel pass over a host behind an anti-scan trap would trip it every few minutes (and learn nothing: the trap
        // drops what it watches); coverage recovery re-verifies those hosts slowly instead.
        var trapped = plan.Run.Trigger == ScanTrigger.Sentinel ? await TrappedWithinAsync(plan.Targets, cancellationToken) : [];
        if (trapped.Count > 0 && plan.Targets.Ranges.All(t => own.Concat(trapped).Any(o => IpRange.Parse(o).Covers(t))))
        {
            await FailAsync(plan.Run.Id, $"Every target is left out: this scanner's own addresses, or hosts labelled anti-scan trap suspected ({string.Join(", ", trapped.Take(10))})");
            return null;
        }
        var note = own.Count > 0 ? $"left out the scanner's own address(es): {string.Join(", ", own.Take(10))}{(own.Count > 10 ? ", ..." : "")}"
            : !settings.ExcludeScannerAddresses && scannerAddresses.Within(plan.Targets) is { Count: > 0 } included
                ? $"scans the scanner's own address(es) {string.Join(", ", included.Take(10))} (Scanning:ExcludeScannerAddresses is false): their findings are flagged"
                : null;
        if (trapped.Count > 0)
            note = string.Join('\n', new[] { note, $"left out {trapped.Count} host(s) labelled anti-scan trap suspected: {string.Join(", ", trapped.Take(10))}{(trapped.Count > 10 ? ", ..." : "")}" }.Where(n => n is not null));
        var excluded = own.Concat(trapped).Distinct().ToList();
        await store.UpdateRunAsync(plan.Run.Id, r =>
        {
            r.ExcludedTargets = excluded.Count > 0 ? string.Join(',', excluded) : null;
            r.ScannedTcpPorts = plan.Ports.Tcp.Count > 0 ? PortSet.Compact(plan.Ports.Tcp) : null;
            r.ScannedUdpPorts = plan.Ports.Udp.Count > 0 ? PortSet.Compact(plan.Ports.Udp) : null;
            if (note is not null)
                r.Notes = note;
        }, cancellationToken);
        if (excluded.Count == 0)
            return plan;
        return await PlanAsync(plan.Run.Id, cancellationToken);
    }

    private async Task<List<string>> TrappedWithinAsync(TargetSet targets, CancellationToken cancellationToken)
    {
        await using var db = await store.Contexts.CreateDbContextAsync(cancellationToken);
        var labelled = await db.HostLabels.AsNoTracking().Where(l => l.Kind == HostLabelKind.AntiScanTrapSuspected).Select(l => l.Address).ToListAsync(cancellationToken);
        return labelled.Where(a => targets.Ranges.Any(r => r.Contains(System.Net.IPAddress.Parse(a)))).ToList();
    }

    private async Task FailAsync(long runId, string error)
    {
        await store.FailRunAsync(runId, error);
        notifier.PublishRunChanged(runId);
        logger.LogWarning("Scan run {RunId} failed: {Error}", runId, error);
    }
}
