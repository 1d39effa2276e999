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
    TrendRefresher trends,
    TimeProvider clock,
    ILogger<ScanImportService> logger)
{
    private const int LargeFileBytes = 8 << 20;

    private static bool HasService(ParsedPort port) => port.Service is not null || port.Product is not null || port.Banner is not null;

    private static PortObservation Observation(long runId, ParsedHost host, ParsedPort port, DateTime observedAt) => new()
    {
        ScanRunId = runId, Address = host.Address, AddressKey = host.Key, Port = port.Port, Protocol = port.Protocol,
        State = port.State, Reason = port.Reason, Ttl = port.Ttl, ObservedAt = observedAt,
    };

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
    /// <param name="expectedLength">The length the sender declared, when it did: read into an array of exactly that size
    /// (a growing buffer and its final copy held about three times the file at once).</param>
    public async Task<byte[]> ReadLimitedAsync(Stream input, CancellationToken cancellationToken, long? expectedLength = null)
    {
        if (expectedLength > MaxBytes)
            throw new ScanFileTooLargeException(TooLarge);
        if (expectedLength is > 0 and var length)
        {
            var exact = new byte[length];
            var filled = 0;
            int got;
            while (filled < exact.Length && (got = await input.ReadAsync(exact.AsMemory(filled), cancellationToken)) > 0)
                filled += got;
            if (filled < exact.Length)
                throw new ScanFileException($"the upload ended after {filled} of the {exact.Length} bytes it announced");
            var extra = new byte[1];
            if (await input.ReadAsync(extra, cancellationToken) > 0)
                throw new ScanFileException($"the upload is longer than the {exact.Length} bytes it announced");
            return exact;
        }
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

    private async Task<(long RunId, int Hosts, int Open, TimeSpan ParsedAt, TimeSpan StoredAt, long HeapParsed, long HeapStored)> ParseAndStoreAsync(
        byte[] content, ScanFileFormat? format, string fileName, string user, bool closeMissing, DateTime now, System.Diagnostics.Stopwatch started,
        CancellationToken cancellationToken)
    {
        var parsed = await ParseCheckedAsync(content, format, cancellationToken);
        var parsedAt = started.Elapsed;
        var heapParsed = GC.GetTotalMemory(false) >> 20;
        var open = parsed.Hosts.Sum(h => h.Ports.Count(p => p.State == PortState.Open));
        var runId = await StoreAsync(parsed, fileName, user, closeMissing, open, now, cancellationToken);
        return (runId, parsed.Hosts.Count, open, parsedAt, started.Elapsed, heapParsed, GC.GetTotalMemory(false) >> 20);
    }

    /// <summary>Writes the run, its coverage and its observations in one transaction; returns the run's id. The rows are
    /// made from the parsed file as they are written, never listed first.</summary>
    private async Task<long> StoreAsync(ParsedScan parsed, string fileName, string user, bool closeMissing, int open, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await BulkTransaction.BeginAsync(db, cancellationToken);
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
        var runId = run.Id;
        // Coverage rows and plain observations (nothing refers to them) in bulk; observations with a service through
        // SaveChanges, which gives them the ids their service rows need. One transaction either way.
        await BulkInsert.InsertAsync(db, parsed.Hosts.Select(host => new ScanTargetCoverage
        {
            ScanRunId = runId, Address = host.Address, AddressKey = host.Key,
            PortsAnswered = host.Ports.Count(p => p.State is PortState.Open or PortState.Closed),
            Status = !host.Up ? TargetCoverageStatus.Lost : parsed.TcpPorts is null && parsed.UdpPorts is null ? TargetCoverageStatus.Partial : TargetCoverageStatus.Complete,
            Note = !host.Up ? "the scanner saw the host down: what is open there is unknown" : null,
        }), cancellationToken);
        var observed = run.FinishedAt ?? now;
        var seen = parsed.Hosts.SelectMany(host => host.Ports.Where(p => p.State is PortState.Open or PortState.OpenFiltered).Select(p => (Host: host, Port: p)));
        await BulkInsert.InsertAsync(db, seen.Where(s => !HasService(s.Port)).Select(s => Observation(runId, s.Host, s.Port, observed)), cancellationToken);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var pending = 0;
        foreach (var (host, port) in seen.Where(s => HasService(s.Port)))
        {
            var observation = Observation(runId, host, port, observed);
            observation.Service = new ServiceInfo
            {
                Name = port.Service, Product = port.Product, Version = port.Version, ExtraInfo = port.ExtraInfo, Cpes = port.Cpes.ToList(), Banner = port.Banner,
            };
            db.PortObservations.Add(observation);
            if (++pending >= WriteBatch)
            {
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
                pending = 0;
            }
        }
        AuditLog.Record(db, user, "run.import", nameof(ScanRun), runId, null, new { File = safeName, parsed.Scanner, Hosts = parsed.Hosts.Count, Open = open, CloseMissing = closeMissing }, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return runId;
    }

    /// <param name="format">Null: detected from the first bytes.</param>
    /// <param name="closeMissing">Close known open ports that the file shows not open on a host it covered completely.</param>
    public async Task<ImportResult> ImportAsync(byte[] content, ScanFileFormat? format, string fileName, string user, bool closeMissing = false, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var now = clock.GetUtcNow().UtcDateTime;
        // The parsed file lives only inside ParseAndStoreAsync: SQLite's async calls complete synchronously, so triage runs
        // inside this method's frame, where a local holding the parsed file would keep it alive to the end.
        var (runId, hostCount, open, parsedAt, storedAt, heapParsed, heapStored) = await ParseAndStoreAsync(content, format, fileName, user, closeMissing, now, started, cancellationToken);
        // The parsed file (about five times the file's size in objects) is garbage now, and the triage is about to fill the heap
        // again; left to the collector's own pace, both were resident at once and a 25 MB file's import peaked above 420 MB.
        // One collection that gives the memory back, for large files only: a small import is not worth a full collection.
        if (content.Length > LargeFileBytes)
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        await triage.ApplyRunAsync(runId, mayClose: closeMissing, now, cancellationToken, recordKept: closeMissing);
        var triagedAt = started.Elapsed;
        var heapTriaged = GC.GetTotalMemory(false) >> 20;
        trends.Request(); // the Overview's figures, a moment after the response
        try
        {
            await alerts.ProcessRunAsync(runId, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Alerts for imported run {RunId} failed", runId);
        }
        logger.LogInformation("Imported {File} as run {RunId}: {Hosts} host(s), {Open} open port(s) in {Seconds:0.0} s (parsed {Parsed:0.0} s, stored {Stored:0.0} s, triaged {Triaged:0.0} s; managed heap {HeapParsed}/{HeapStored}/{HeapTriaged} MB)",
            fileName, runId, hostCount, open, started.Elapsed.TotalSeconds, parsedAt.TotalSeconds, storedAt.TotalSeconds, triagedAt.TotalSeconds, heapParsed, heapStored, heapTriaged);
        Metrics.PortWatchMetrics.ImportSeconds.Record(started.Elapsed.TotalSeconds);
        return new ImportResult(runId, hostCount, open, closeMissing);
    }
}
