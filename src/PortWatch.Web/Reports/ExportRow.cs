using Microsoft.EntityFrameworkCore;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Reports;

/// <summary>
/// One port in an export: what was seen (observation and service) and, for findings, what the
/// analysts decided. Service text and banners are attacker-controlled; every writer encodes them.
/// </summary>
public sealed record ExportRow
{
    /// <summary>The finding's id, for exports of findings (null for a run's observations).</summary>
    public long? FindingId { get; init; }
    public required string Address { get; init; }
    public int Port { get; init; }
    public TransportProtocol Protocol { get; init; }
    public FindingKind Kind { get; init; }
    public PortState State { get; init; }
    public string? Reason { get; init; }
    public int? Ttl { get; init; }
    public string? Service { get; init; }
    public string? Product { get; init; }
    public string? Version { get; init; }
    public string? ExtraInfo { get; init; }
    public IReadOnlyList<string> Cpes { get; init; } = [];
    public string? HttpTitle { get; init; }
    public string? TlsSubject { get; init; }
    public TriageStatus? Status { get; init; }
    public Severity? Severity { get; init; }
    public DateTime? FirstSeen { get; init; }
    public DateTime? LastSeen { get; init; }
    public string? Owner { get; init; }
    public string? Assignee { get; init; }
    public string? Notes { get; init; }
}

/// <summary>What an export covers, for its header and the Nmap XML scaninfo.</summary>
public sealed record ExportInfo(string Title, DateTime GeneratedAt, string? ScannedTcpPorts, string? ScannedUdpPorts, DateTime? StartedAt, DateTime? FinishedAt);

/// <summary>Reads export rows from the database in batches (an export of a million findings never holds them all).</summary>
public static class ExportQueries
{
    private const int BatchSize = 2000;

    public static async IAsyncEnumerable<ExportRow> FindingsAsync(IDbContextFactory<PortWatchDbContext> dbFactory, FindingQuery query, DateTime now,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long after = 0;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var batch = await query.Apply(db.Findings.AsNoTracking(), now).Where(f => f.Id > after).OrderBy(f => f.Id).Take(BatchSize)
                .Select(f => new
                {
                    Finding = f,
                    Owner = f.Asset != null ? f.Asset.Owner : null,
                    Observation = db.PortObservations.Where(o => o.Id == f.LastObservationId).Select(o => new { o.Reason, o.Ttl, o.Service }).FirstOrDefault(),
                })
                .ToListAsync(cancellationToken);
            if (batch.Count == 0)
                yield break;
            foreach (var row in batch.OrderBy(r => r.Finding.AddressKey).ThenBy(r => r.Finding.Protocol).ThenBy(r => r.Finding.Port))
            {
                var f = row.Finding;
                var s = row.Observation?.Service;
                yield return new ExportRow
                {
                    FindingId = f.Id, Address = f.Address, Port = f.Port, Protocol = f.Protocol, Kind = f.Kind, State = f.CurrentState,
                    Reason = row.Observation?.Reason, Ttl = row.Observation?.Ttl,
                    Service = f.ServiceName, Product = f.Product, Version = f.Version, ExtraInfo = s?.ExtraInfo, Cpes = s?.Cpes ?? [],
                    HttpTitle = s?.HttpTitle, TlsSubject = s?.CertSubject,
                    Status = f.Status, Severity = f.Severity, FirstSeen = f.FirstSeenAt, LastSeen = f.LastSeenAt,
                    Owner = row.Owner, Assignee = f.Assignee, Notes = f.Notes,
                };
            }
            after = batch.Max(r => r.Finding.Id);
        }
    }

    public static async IAsyncEnumerable<ExportRow> RunAsync(IDbContextFactory<PortWatchDbContext> dbFactory, long runId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long after = 0;
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var batch = await db.PortObservations.AsNoTracking().Include(o => o.Service)
                .Where(o => o.ScanRunId == runId && o.Id > after).OrderBy(o => o.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
                yield break;
            foreach (var o in batch.OrderBy(o => o.AddressKey).ThenBy(o => o.Protocol).ThenBy(o => o.Port))
            {
                var s = o.Service;
                yield return new ExportRow
                {
                    Address = o.Address, Port = o.Port, Protocol = o.Protocol, State = o.State, Reason = o.Reason, Ttl = o.Ttl,
                    Service = s?.Name, Product = s?.Product, Version = s?.Version, ExtraInfo = s?.ExtraInfo, Cpes = s?.Cpes ?? [],
                    HttpTitle = s?.HttpTitle, TlsSubject = s?.CertSubject, LastSeen = o.ObservedAt,
                };
            }
            after = batch[^1].Id;
        }
    }
}
