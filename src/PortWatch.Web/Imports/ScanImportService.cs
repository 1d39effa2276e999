using PortWatch.Web.Common;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Alerts;
using PortWatch.Web.Configuration;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Scans;
using PortWatch.Web.Schedules;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Imports;

public sealed record ImportResult(long RunId, int Hosts, int OpenPorts, bool ClosedMissing);

/// <summary>
/// Turns an Nmap or masscan file into a completed run (trigger Import) whose observations go
/// through the normal triage and alerts. The whole file is parsed and checked (size, format,
/// scope) before anything is written, and written in one transaction: a bad file stores nothing.
/// Coverage: a host nmap saw up, with the scanned ports known (scaninfo), is Complete; masscan does
/// not record which ports it probed, so its hosts are Partial and nothing is called closed.
/// A file is evidence of what was open, not proof that everything else is closed: an import closes
/// known open ports only when the analyst asks for it (closeMissing), and
/// <see cref="PreviewAsync"/> shows what an import would change before anything is stored.
/// </summary>
public sealed class ScanImportService(
    IDbContextFactory<PortWatchDbContext> dbFactory,
    IOptions<ImportOptions> options,
    ScanScope scope,
    RunTriageService triage,
    AlertService alerts,
    TimeProvider clock,
    ILogger<ScanImportService> logger)
{
    /// <summary>Rows added per SaveChanges while storing an import.</summary>
    private const int WriteBatch = 5_000;

    public long MaxBytes => Math.Max(1, options.Value.MaxFileMegabytes) * 1024L * 1024L;

    /// <summary>The one size limit of an import, as the error states it wherever the file is refused.</summary>
    public string TooLarge => $"the file is larger than the limit of {options.Value.MaxFileMegabytes} MB (Imports:MaxFileMegabytes)";

    private async Task<ParsedScan> ParseCheckedAsync(byte[] content, ScanFileFormat? format, CancellationToken cancellationToken)
    {
        if (content.LongLength > MaxBytes)
            throw new ScanFileTooLargeException(TooLarge);
        var parsed = ScanFileParser.Parse(content, format ?? ScanFileParser.Detect(content.AsSpan(0, Math.Min(content.Length, 512))));
        if (parsed.Hosts.Count > 0)
        {
            try
            {
                await scope.CheckAsync(TargetSet.FromRanges(parsed.Hosts.Select(h => IpRange.Single(IPAddress.Parse(h.Address)))), cancellationToken);
            }
            catch (TargetSpecException ex)
            {
                throw new ScanFileException($"the file has hosts outside the allowed scope: {ex.Message}");
            }
        }
        return parsed;
    }

    /// <summary>Reads a stream up to the size limit; a larger one is refused without reading the rest.</summary>
    public async Task<byte[]> ReadLimitedAsync(Stream input, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await input.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
                throw new ScanFileTooLargeException(TooLarge);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            throw new ScanFileException("the file is empty");
        return buffer.ToArray();
    }

    /// <summary>What importing the file would change, computed against the current findings; nothing is stored.</summary>
    public async Task<ImportPreview> PreviewAsync(byte[] content, ScanFileFormat? format, bool closeMissing, CancellationToken cancellationToken = default)
    {
        var parsed = await ParseCheckedAsync(content, format, cancellationToken);
        return await ImportPreview.ComputeAsync(dbFactory, parsed, closeMissing, cancellationToken);
    }

    /// <param name="format">Null: detected from the first bytes.</param>
    /// <param name="closeMissing">Close known open ports that the file shows not open on a host it covered completely.</param>
    public async Task<ImportResult> ImportAsync(byte[] content, ScanFileFormat? format, string fileName, string user, bool closeMissing = false, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var parsed = await ParseCheckedAsync(content, format, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        long runId;
        var open = parsed.Hosts.Sum(h => h.Ports.Count(p => p.State == PortState.Open));
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var safeName = Path.GetFileName(fileName ?? "upload");
            safeName = safeName.Length > 100 ? safeName[..100] : safeName;
            var run = new ScanRun
            {
                Status = ScanRunStatus.Completed, Trigger = ScanTrigger.Import, RequestedBy = user,
                TargetSpec = string.Join(',', parsed.Hosts.Select(h => h.Address).Take(10_000)),
                ScannedTcpPorts = parsed.TcpPorts, ScannedUdpPorts = parsed.UdpPorts,
                CreatedAt = now, StartedAt = parsed.StartedAt ?? now, FinishedAt = parsed.FinishedAt ?? now,
                TargetCount = parsed.Hosts.Count,
                OpenCount = open,
                ClosedCount = parsed.Hosts.Sum(h => h.Ports.Count(p => p.State == PortState.Closed)),
                FilteredCount = parsed.Hosts.Sum(h => h.Ports.Count(p => p.State == PortState.Filtered)),
                Notes = Scanning.SafeText.ForTerminal($"imported from {safeName} ({parsed.Scanner} output)", 300)
                    + (parsed.TcpPorts is null && parsed.UdpPorts is null ? "\nthe file does not say which ports were probed: nothing is called closed"
                        : closeMissing ? "\nthe analyst asked to close known open ports the file shows not open" : "\nopen ports only: an import closes nothing unless asked to"),
            };
            db.ScanRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            runId = run.Id;
            // In batches with a cleared change tracker: a file of 700,000 open ports would otherwise hold every row tracked at once.
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            var pending = 0;
            foreach (var host in parsed.Hosts)
            {
                var key = IpKey.From(IPAddress.Parse(host.Address));
                db.ScanTargetCoverage.Add(new ScanTargetCoverage
                {
                    ScanRunId = runId, Address = host.Address, AddressKey = key,
                    PortsAnswered = host.Ports.Count(p => p.State is PortState.Open or PortState.Closed),
                    Status = !host.Up ? TargetCoverageStatus.Lost : parsed.TcpPorts is null && parsed.UdpPorts is null ? TargetCoverageStatus.Partial : TargetCoverageStatus.Complete,
                    Note = !host.Up ? "the scanner saw the host down: what is open there is unknown" : null,
                });
                foreach (var p in host.Ports.Where(p => p.State is PortState.Open or PortState.OpenFiltered))
                {
                    db.PortObservations.Add(new PortObservation
                    {
                        ScanRunId = runId, Address = host.Address, AddressKey = key, Port = p.Port, Protocol = p.Protocol, State = p.State,
                        Reason = p.Reason, Ttl = p.Ttl, ObservedAt = run.FinishedAt ?? now,
                        Service = p.Service is null && p.Product is null && p.Banner is null ? null : new ServiceInfo
                        {
                            Name = p.Service, Product = p.Product, Version = p.Version, ExtraInfo = p.ExtraInfo, Cpes = p.Cpes.ToList(), Banner = p.Banner,
                        },
                    });
                    if (++pending >= WriteBatch)
                    {
                        await db.SaveChangesAsync(cancellationToken);
                        db.ChangeTracker.Clear();
                        pending = 0;
                    }
                }
            }
            AuditLog.Record(db, user, "run.import", nameof(ScanRun), runId, null, new { File = safeName, parsed.Scanner, Hosts = parsed.Hosts.Count, Open = open, CloseMissing = closeMissing }, now);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        await triage.ApplyRunAsync(runId, mayClose: closeMissing, now, cancellationToken, recordKept: closeMissing);
        await TrendRecorder.RecordAsync(dbFactory, now, cancellationToken);
        try
        {
            await alerts.ProcessRunAsync(runId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Alerts for imported run {RunId} failed", runId);
        }
        logger.LogInformation("Imported {File} as run {RunId}: {Hosts} host(s), {Open} open port(s) in {Seconds:0.0} s", fileName, runId, parsed.Hosts.Count, open, started.Elapsed.TotalSeconds);
        Metrics.PortWatchMetrics.ImportSeconds.Record(started.Elapsed.TotalSeconds);
        return new ImportResult(runId, parsed.Hosts.Count, open, closeMissing);
    }
}
