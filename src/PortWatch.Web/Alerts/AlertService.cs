using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Alerts;

/// <summary>
/// Alerts after a run: the findings that are newly open (or changed) and risky, damped against
/// flapping, confirmed by a re-check, become one digest per channel. A finding is alerted once per
/// fingerprint (kind, state, service), so an unchanged rerun sends nothing. Deliveries are stored
/// before they are sent and retried with back-off until they succeed or run out of attempts.
/// </summary>
public sealed class AlertService(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<AlertOptions> options,
    AlertSender sender,
    PortRechecker rechecker,
    TimeProvider clock,
    ILogger<AlertService> logger)
{
    private static readonly TimeSpan[] Backoff =
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(4)];

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task ProcessRunAsync(long runId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        List<AlertChannel> channels;
        List<Finding> candidates;
        List<long> deliveryIds;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            channels = await db.AlertChannels.AsNoTracking().Where(c => c.Enabled).ToListAsync(cancellationToken);
            // Only what the fingerprint needs, untracked: a run of 700,000 baselined ports would otherwise load them all to alert none.
            // Streamed, keeping only the candidates' ids: held as a list, the projections of a large import peaked at hundreds of MB.
            // The database leaves out what is plainly unchanged (no service, and the fingerprint of an open port or anomaly without
            // one): after a baseline of 700,000 ports that is every row. The exact comparison below judges the rest.
            var plainPort = RunTriageService.AlertFingerprintOf(new Finding { Kind = FindingKind.Port, CurrentState = PortState.Open, Address = "", AddressKey = "" });
            var plainAnomaly = RunTriageService.AlertFingerprintOf(new Finding { Kind = FindingKind.HostAnomaly, CurrentState = PortState.Open, Address = "", AddressKey = "" });
            var open = db.Findings.AsNoTracking()
                .Where(f => f.LastRunId == runId && f.CurrentState == PortState.Open && f.Status != TriageStatus.Expected && f.Status != TriageStatus.Resolved)
                // A retired asset's findings are not alerted: its sources no longer list the address.
                .Where(f => (f.Flags & FindingFlags.AssetRetired) == 0)
                .Where(f => !(f.ServiceName == null && f.Product == null
                    && ((f.Kind == FindingKind.Port && f.AlertFingerprint == plainPort) || (f.Kind == FindingKind.HostAnomaly && f.AlertFingerprint == plainAnomaly))))
                .Select(f => new Finding { Id = f.Id, Kind = f.Kind, CurrentState = f.CurrentState, ServiceName = f.ServiceName, Product = f.Product, AlertFingerprint = f.AlertFingerprint, Address = f.Address, AddressKey = f.AddressKey })
                .AsAsyncEnumerable();
            var candidateIds = new List<long>();
            await foreach (var f in open.WithCancellation(cancellationToken))
            {
                if (f.AlertFingerprint != RunTriageService.AlertFingerprintOf(f))
                    candidateIds.Add(f.Id);
            }
            candidates = [];
            foreach (var chunk in candidateIds.Chunk(1000))
                candidates.AddRange(await db.Findings.Where(f => chunk.Contains(f.Id)).ToListAsync(cancellationToken));
            if (candidates.Count == 0)
                return;
            var catalogue = (await TriageRules.LoadAsync(db, cancellationToken)).Catalogue;
            var minimum = channels.Count == 0 ? (Severity?)null : channels.Min(c => c.MinimumSeverity);
            var alertable = candidates.Where(f => minimum is { } min && (f.Severity >= min || f.Status == TriageStatus.Abnormal)).ToList();
            // Not risky enough for any channel (or no channel at all): considered, and not brought up again while unchanged.
            foreach (var quiet in candidates.Except(alertable))
                quiet.AlertFingerprint = RunTriageService.AlertFingerprintOf(quiet);

            var confirmed = new List<(Finding Finding, string? Recheck)>();
            foreach (var finding in alertable)
            {
                if (await FlapDampingAsync(db, finding, runId, cancellationToken) is { } deferred)
                {
                    TriageRules.AddEvent(db, finding, runId, Now, FindingEventKind.AlertDeferred, deferred);
                    continue;
                }
                confirmed.Add((finding, null));
            }
            var trigger = await db.ScanRuns.Where(r => r.Id == runId).Select(r => (ScanTrigger?)r.Trigger).FirstOrDefaultAsync(cancellationToken);
            if (settings.ConfirmBeforeAlert && trigger?.ConfirmsWhatItFinds() != true)
                confirmed = await RecheckAsync(db, confirmed, runId, cancellationToken);

            var changes = await db.FindingEvents.AsNoTracking()
                .Where(e => e.ScanRunId == runId && (e.Kind == FindingEventKind.New || e.Kind == FindingEventKind.Reopened || e.Kind == FindingEventKind.ServiceChanged || e.Kind == FindingEventKind.ExceptionLapsed))
                .Select(e => new { e.FindingId, e.Kind, e.Detail }).ToListAsync(cancellationToken);
            var newDeliveries = new List<AlertDelivery>();
            var sentTo = new Dictionary<Finding, List<string>>();
            var assetIds = confirmed.Select(c => c.Finding.AssetId).OfType<int>().Distinct().ToList();
            var assets = await db.Assets.AsNoTracking().Where(a => assetIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
            foreach (var channel in channels)
            {
                var items = confirmed.Where(c => c.Finding.Severity >= channel.MinimumSeverity || c.Finding.Status == TriageStatus.Abnormal)
                    .Where(c => AlertChannelRules.Routes(channel, c.Finding.AssetId is { } id ? assets.GetValueOrDefault(id) : null))
                    .OrderByDescending(c => c.Finding.Severity).ThenBy(c => c.Finding.AddressKey).ThenBy(c => c.Finding.Port)
                    .Select(c => Item(c.Finding, c.Recheck, changes.Where(e => e.FindingId == c.Finding.Id).Select(e => (e.Kind, e.Detail)).ToList(), catalogue))
                    .ToList();
                if (items.Count == 0)
                    continue;
                foreach (var (finding, _) in confirmed.Where(c => items.Any(i => i.FindingId == c.Finding.Id)))
                    (sentTo.TryGetValue(finding, out var names) ? names : sentTo[finding] = []).Add(channel.Name);
                if (await db.AlertDeliveries.AnyAsync(d => d.ScanRunId == runId && d.AlertChannelId == channel.Id, cancellationToken))
                    continue; // finalising ran before (a crash): that digest stands
                var digest = new AlertDigest(runId, Subject(runId, items), Now, RunUrl(runId), items);
                var delivery = new AlertDelivery
                {
                    ScanRunId = runId, AlertChannelId = channel.Id, CreatedAt = Now, Status = AlertDeliveryStatus.Pending, NextAttemptAt = Now,
                    Subject = digest.Subject, FindingCount = items.Count, Digest = JsonSerializer.Serialize(digest, AlertFormatter.Json),
                };
                db.AlertDeliveries.Add(delivery);
                newDeliveries.Add(delivery);
            }
            foreach (var (finding, names) in sentTo)
            {
                finding.AlertFingerprint = RunTriageService.AlertFingerprintOf(finding);
                finding.LastAlertedAt = Now;
                TriageRules.AddEvent(db, finding, runId, Now, FindingEventKind.Alerted, $"in the run's digest to {string.Join(", ", names)}");
            }
            await db.SaveChangesAsync(cancellationToken);
            deliveryIds = newDeliveries.Select(d => d.Id).ToList();
        }
        foreach (var id in deliveryIds)
            await DeliverAsync(id, cancellationToken);
    }

    /// <summary>Retries deliveries that are due; several nodes may call this at once, each delivery is claimed by one.</summary>
    public async Task<int> RetryDueAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        List<(long Id, DateTime? Due)> due;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            due = (await db.AlertDeliveries.AsNoTracking().Where(d => d.Status == AlertDeliveryStatus.Pending && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).Take(50).Select(d => new { d.Id, d.NextAttemptAt }).ToListAsync(cancellationToken))
                .Select(d => (d.Id, d.NextAttemptAt)).ToList();
        }
        var sent = 0;
        foreach (var (id, dueAt) in due)
        {
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                var lease = now.AddMinutes(10);
                var claimed = await db.AlertDeliveries.Where(d => d.Id == id && d.Status == AlertDeliveryStatus.Pending && d.NextAttemptAt == dueAt)
                    .ExecuteUpdateAsync(u => u.SetProperty(d => d.NextAttemptAt, lease), cancellationToken);
                if (claimed == 0)
                    continue;
            }
            if (await DeliverAsync(id, cancellationToken))
                sent++;
        }
        return sent;
    }

    /// <summary>Sends a sample digest to a channel now (the "send test" button); null when it went through, else why not.</summary>
    public async Task<string?> SendTestAsync(AlertChannel channel, CancellationToken cancellationToken)
    {
        var digest = new AlertDigest(null, "[PortWatch] Test alert: this channel works", Now, options.Value.DashboardUrl,
        [
            new AlertItem(0, "192.0.2.10", 6379, "tcp", "new", "Critical", "Unreviewed", "Redis", "redis", "Redis key-value store", "7.0.15",
                "example only: not a real finding", "confirmed open on re-check", null),
        ]);
        try
        {
            await sender.SendAsync(channel, digest, cancellationToken);
            return null;
        }
        catch (AlertDeliveryException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>One attempt at one delivery; true when it went through.</summary>
    public async Task<bool> DeliverAsync(long deliveryId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var delivery = await db.AlertDeliveries.Include(d => d.AlertChannel).SingleAsync(d => d.Id == deliveryId, cancellationToken);
        if (delivery.Status != AlertDeliveryStatus.Pending || delivery.AlertChannel is not { } channel)
            return false;
        delivery.Attempts++;
        delivery.LastAttemptAt = Now;
        try
        {
            var digest = JsonSerializer.Deserialize<AlertDigest>(delivery.Digest, AlertFormatter.Json)
                ?? throw new AlertDeliveryException("the stored digest is empty");
            await sender.SendAsync(channel, digest, cancellationToken);
            delivery.Status = AlertDeliveryStatus.Sent;
            delivery.SentAt = Now;
            delivery.NextAttemptAt = null;
            delivery.LastError = null;
            logger.LogInformation("Alert digest {Delivery} ({Count} finding(s)) sent to {Channel}", delivery.Id, delivery.FindingCount, channel.Name);
            Metrics.PortWatchMetrics.AlertDeliveries.Add(1);
        }
        catch (AlertDeliveryException ex)
        {
            delivery.LastError = ex.Message.Length > 2000 ? ex.Message[..2000] : ex.Message;
            Metrics.PortWatchMetrics.AlertDeliveryFailures.Add(1);
            if (delivery.Attempts >= Math.Max(1, options.Value.MaxDeliveryAttempts))
            {
                delivery.Status = AlertDeliveryStatus.Failed;
                delivery.NextAttemptAt = null;
            }
            else
            {
                delivery.NextAttemptAt = Now + Backoff[Math.Min(delivery.Attempts - 1, Backoff.Length - 1)];
            }
            logger.LogWarning("Alert digest {Delivery} to {Channel}, attempt {Attempt}: {Error}", delivery.Id, channel.Name, delivery.Attempts, ex.Message);
        }
        await db.SaveChangesAsync(CancellationToken.None);
        return delivery.Status == AlertDeliveryStatus.Sent;
    }

    /// <summary>Why the alert waits (open in too few of the last runs over the host), or null to go ahead.</summary>
    private async Task<string?> FlapDampingAsync(PortWatchDbContext db, Finding finding, long runId, CancellationToken cancellationToken)
    {
        var required = options.Value.FlapRequiredRuns;
        var window = Math.Max(required, options.Value.FlapWindowRuns);
        if (required <= 1 || finding.Kind != FindingKind.Port)
            return null;
        var runs = await db.ScanTargetCoverage.AsNoTracking()
            .Where(c => c.AddressKey == finding.AddressKey && c.ScanRunId <= runId && c.Status != TargetCoverageStatus.Pending)
            .OrderByDescending(c => c.ScanRunId).Take(window).Select(c => c.ScanRunId).ToListAsync(cancellationToken);
        var openIn = await db.PortObservations.AsNoTracking()
            .Where(o => runs.Contains(o.ScanRunId) && o.AddressKey == finding.AddressKey && o.Port == finding.Port && o.Protocol == finding.Protocol && o.State == PortState.Open)
            .Select(o => o.ScanRunId).Distinct().CountAsync(cancellationToken);
        return openIn >= required ? null
            : string.Create(CultureInfo.InvariantCulture, $"flap damping: open in {openIn} of the last {runs.Count} run(s) over the host; alerting needs {required} of {window}");
    }

    private async Task<List<(Finding Finding, string? Recheck)>> RecheckAsync(PortWatchDbContext db, List<(Finding Finding, string? Recheck)> candidates, long runId, CancellationToken cancellationToken)
    {
        var results = new (Finding Finding, RecheckResult? Result)[candidates.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, candidates.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var finding = candidates[i].Finding;
            // A host-level anomaly is confirmed by its count of open ports; there is no single port to re-check.
            results[i] = (finding, finding.Kind == FindingKind.HostAnomaly ? null : await rechecker.RecheckAsync(finding.Address, finding.Port, finding.Protocol, ct));
        });
        var confirmed = new List<(Finding, string?)>();
        foreach (var (finding, result) in results)
        {
            if (result is { Open: false })
            {
                TriageRules.AddEvent(db, finding, runId, Now, FindingEventKind.AlertSuppressed, result.Detail);
                continue;
            }
            confirmed.Add((finding, result?.Detail));
        }
        return confirmed;
    }

    private static AlertItem Item(Finding f, string? recheck, List<(FindingEventKind Kind, string? Detail)> changes, IReadOnlyDictionary<(int, TransportProtocol), RiskRule> catalogue)
    {
        var change = changes.Any(c => c.Kind == FindingEventKind.ServiceChanged) && !changes.Any(c => c.Kind is FindingEventKind.New or FindingEventKind.Reopened)
            ? "service changed"
            : changes.Any(c => c.Kind == FindingEventKind.Reopened) ? "reopened"
            : changes.Any(c => c.Kind == FindingEventKind.ExceptionLapsed) ? "no longer covered by its exception"
            : f.Kind == FindingKind.HostAnomaly ? "too many open ports" : "new";
        var detail = changes.Where(c => c.Kind is FindingEventKind.ServiceChanged or FindingEventKind.ExceptionLapsed || f.Kind == FindingKind.HostAnomaly)
            .Select(c => c.Detail).FirstOrDefault(d => d is not null);
        return new AlertItem(f.Id, f.Address, f.Port, f.Protocol.Name(), change, f.Severity.ToString(), f.Status.ToString(),
            catalogue.TryGetValue((f.Port, f.Protocol), out var risk) && f.Kind == FindingKind.Port ? risk.Name : null,
            f.ServiceName, f.Product, f.Version, detail, recheck, null);
    }

    private static string Subject(long runId, List<AlertItem> items)
    {
        var high = items.Count(i => i.Severity is nameof(Severity.High) or nameof(Severity.Critical));
        return string.Create(CultureInfo.InvariantCulture,
            $"[PortWatch] {items.Count} newly open or changed port(s){(high > 0 ? $", {high} high-risk" : "")} in scan run #{runId}");
    }

    private string? RunUrl(long runId) =>
        string.IsNullOrWhiteSpace(options.Value.DashboardUrl) ? null : $"{options.Value.DashboardUrl.TrimEnd('/')}/scans/{runId}";
}
