using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning;
using PortWatch.Scanning.Connect;
using PortWatch.Scanning.Probes;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Flows;

/// <summary>
/// Checks each candidate at once: for TCP a connect probe (the engine's, with its self-connect guard),
/// then service detection; for UDP service detection's probes, where only an answer means open. A port found open becomes a one-port run (trigger Flow) that goes
/// through triage (exceptions, severity, "new" — never a baseline and never closing anything)
/// and alerts, so a finding detected by flow is handled like any other. Nothing is recorded for a
/// port found closed or silent. Checks are paced to Flows:ChecksPerMinute.
/// </summary>
public sealed class FlowChecker(FlowCheckQueue queue, FlowStatistics statistics, IOptions<FlowsOptions> options, IDbContextFactory<PortWatchDbContext> dbFactory,
    RunTriageService triage, AlertService alerts, ProbeDatabaseCache probes, ScanProgressNotifier notifier, TimeProvider clock, ILogger<FlowChecker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
            return;
        var spacing = TimeSpan.FromMinutes(1) / options.Value.ChecksPerMinute;
        // Parsed now, not on the first candidate: that second would be added to the first flow-found alert.
        await Task.Run(probes.Get, stoppingToken);
        var next = clock.GetUtcNow();
        try
        {
            await foreach (var candidate in queue.Reader.ReadAllAsync(stoppingToken))
            {
                var now = clock.GetUtcNow();
                if (next > now)
                    await Task.Delay(next - now, clock, stoppingToken);
                next = (next > now ? next : now) + spacing;
                try
                {
                    await CheckAsync(candidate, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Flow check of {Address}:{Port} failed", candidate.Address, candidate.Port);
                    statistics.Checked(new FlowCheck(clock.GetUtcNow().UtcDateTime, candidate.Address.ToString(), candidate.Port, candidate.Protocol, $"failed: {ex.GetType().Name}", null));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task CheckAsync(FlowCandidate candidate, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromMilliseconds(options.Value.CheckTimeoutMs);
        var endpoint = new IPEndPoint(candidate.Address, candidate.Port);
        var udp = candidate.Protocol == TransportProtocol.Udp;
        string? notOpen;
        string reason;
        ServiceReport? report = null;
        if (udp)
        {
            // A UDP port is open only if it answers; service detection's probes are the port scan's payloads and more.
            await foreach (var r in new ServiceDetector(probes.Get(), new ProbeRunnerOptions { Intensity = 7 }).ProbeManyAsync([(endpoint, PortProtocol.Udp)], cancellationToken))
                report = r;
            (notOpen, reason) = report switch
            {
                { Answered: true } => (null, "udp-response"),
                { Refused: true } => ("closed (port-unreach)", ""),
                _ => ("no answer (open|filtered): not recorded", ""),
            };
        }
        else
        {
            // The engine's connect scanner, with its self-connect guard; a reset or silence is recorded nowhere.
            var result = await SinglePortCheck.TcpAsync(candidate.Address, candidate.Port, timeout, retries: 1, cancellationToken);
            (notOpen, reason) = result.Status == PortStatus.Open ? (null, result.Reason) : ($"{result.Status.ToString().ToLowerInvariant()} ({result.Reason})", "");
            if (notOpen is null)
                report = await DetectTcpServiceAsync(endpoint, cancellationToken);
        }
        var at = clock.GetUtcNow().UtcDateTime;
        if (notOpen is not null)
        {
            statistics.Checked(new FlowCheck(at, candidate.Address.ToString(), candidate.Port, candidate.Protocol, notOpen, null));
            return;
        }
        var runId = await RecordAsync(candidate, reason, report, at, cancellationToken);
        await triage.ApplyRunAsync(runId, mayClose: false, at, cancellationToken);
        await alerts.ProcessRunAsync(runId, cancellationToken);
        queue.CachesStale = true;
        notifier.PublishRunChanged(runId);
        long? findingId;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var key = IpKey.From(candidate.Address);
            findingId = await db.Findings.Where(f => f.AddressKey == key && f.Port == candidate.Port && f.Protocol == candidate.Protocol && f.Kind == FindingKind.Port)
                .Select(f => (long?)f.Id).FirstOrDefaultAsync(cancellationToken);
        }
        logger.LogInformation("Flow {Flow} from {Exporter}: {Address}:{Port}/{Protocol} is open ({Service}); run {RunId}", candidate.Flow, candidate.Exporter, candidate.Address, candidate.Port,
            candidate.Protocol.Name(), report?.Service?.Name ?? "unknown service", runId);
        statistics.Checked(new FlowCheck(at, candidate.Address.ToString(), candidate.Port, candidate.Protocol, "open: finding recorded", findingId));
    }

    /// <summary>Service detection within Flows:ServiceDetectionSeconds: the alert waits for it, so a silent service must not hold it up.</summary>
    private async Task<ServiceReport?> DetectTcpServiceAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(TimeSpan.FromSeconds(options.Value.ServiceDetectionSeconds));
        ServiceReport? report = null;
        try
        {
            await foreach (var r in new ServiceDetector(probes.Get(), new ProbeRunnerOptions { Intensity = 7 }).ProbeManyAsync([(endpoint, PortProtocol.Tcp)], budget.Token))
                report = r;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Flow check of {Endpoint}: service detection stopped after {Seconds} s; recorded as not identified", endpoint, options.Value.ServiceDetectionSeconds);
        }
        return report;
    }

    /// <summary>The check as a finished one-port run: coverage Partial (it covers one port), the open observation and its service.</summary>
    private async Task<long> RecordAsync(FlowCandidate candidate, string reason, ServiceReport? report, DateTime at, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var address = candidate.Address.ToString();
        var key = IpKey.From(candidate.Address);
        var port = candidate.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var udp = candidate.Protocol == TransportProtocol.Udp;
        var run = new ScanRun
        {
            Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Flow, TargetSpec = address, ScannedTcpPorts = udp ? null : port, ScannedUdpPorts = udp ? port : null,
            RequestedBy = $"flow from exporter {candidate.Exporter}", CreatedAt = at, StartedAt = at, FinishedAt = at, TargetCount = 1, PortCount = 1, OpenCount = 1,
            Notes = SafeText.ForTerminal($"detected by flow {candidate.Flow} (exporter {candidate.Exporter}), checked at once", 500),
        };
        db.ScanRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.ScanTargetCoverage.Add(new ScanTargetCoverage { ScanRunId = run.Id, Address = address, AddressKey = key, PortsPlanned = 1, PortsAnswered = 1, Status = TargetCoverageStatus.Partial, Note = "flow check: one port" });
        var observation = new PortObservation
        {
            ScanRunId = run.Id, Address = address, AddressKey = key, Port = candidate.Port, Protocol = candidate.Protocol, State = PortState.Open, Reason = reason, ObservedAt = at,
        };
        db.PortObservations.Add(observation);
        await db.SaveChangesAsync(cancellationToken);
        if (report is not null)
        {
            db.ServiceInfos.Add(ServiceInfoMapper.From(report, observation.Id));
            await db.SaveChangesAsync(cancellationToken);
        }
        return run.Id;
    }
}
