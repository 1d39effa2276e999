using System.Net;
using Microsoft.EntityFrameworkCore;
using PortWatch.Scanning.Targets;
using PortWatch.Web.Data;
using PortWatch.Web.Data.Entities;
using PortWatch.Web.Triage;

namespace PortWatch.Web.Imports;

/// <summary>
/// What an import would do to the findings, shown before it is applied: ports that would become
/// new findings, closed or resolved ones that would reopen, open ones whose service would change,
/// and (only when the analyst asks to close missing ports) open ones that would be closed.
/// The lists name at most <see cref="MaxListed"/> ports each; the counts are complete.
/// </summary>
public sealed record ImportPreview(
    string Scanner, int Hosts, int OpenPorts,
    int New, int Reopened, int ServiceChanged, int WouldClose,
    IReadOnlyList<string> NewPorts, IReadOnlyList<string> ReopenedPorts, IReadOnlyList<string> ClosedPorts, bool CloseMissing)
{
    public const int MaxListed = 200;

    private const int AddressesPerQuery = 500;

    public static async Task<ImportPreview> ComputeAsync(IDbContextFactory<PortWatchDbContext> dbFactory, ParsedScan parsed, bool closeMissing, CancellationToken cancellationToken)
    {
        var scanned = new ScannedPorts(parsed.TcpPorts, parsed.UdpPorts);
        var portsKnown = parsed.TcpPorts is not null || parsed.UdpPorts is not null;
        var newPorts = new List<string>();
        var reopened = new List<string>();
        var closed = new List<string>();
        int newCount = 0, reopenedCount = 0, changedCount = 0, closedCount = 0;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var batch in parsed.Hosts.Chunk(AddressesPerQuery))
        {
            var keys = batch.Select(h => IpKey.From(IPAddress.Parse(h.Address))).ToList();
            var findings = (await db.Findings.AsNoTracking().Where(f => keys.Contains(f.AddressKey) && f.Kind == FindingKind.Port).ToListAsync(cancellationToken))
                .ToLookup(f => f.AddressKey);
            foreach (var (host, key) in batch.Zip(keys))
            {
                var known = findings[key].ToDictionary(f => (f.Port, f.Protocol));
                var seen = new HashSet<(int, TransportProtocol)>();
                foreach (var port in host.Ports.Where(p => p.State is PortState.Open or PortState.OpenFiltered))
                {
                    seen.Add((port.Port, port.Protocol));
                    if (port.State != PortState.Open)
                        continue;
                    var label = Label(host.Address, port.Port, port.Protocol);
                    if (!known.TryGetValue((port.Port, port.Protocol), out var finding))
                        Count(ref newCount, newPorts, label);
                    else if (finding.CurrentState != PortState.Open || finding.Status == TriageStatus.Resolved)
                        Count(ref reopenedCount, reopened, label);
                    else if ((port.Product is not null || port.Service is not null)
                        && RunTriageService.ServiceDiffers(finding, port.Service, port.Product, port.Version) is not null)
                        changedCount++;
                }
                if (!closeMissing || !host.Up || !portsKnown)
                    continue;
                foreach (var finding in known.Values.Where(f => f.CurrentState == PortState.Open && !seen.Contains((f.Port, f.Protocol)) && scanned.Contains(f.Port, f.Protocol)))
                    Count(ref closedCount, closed, Label(host.Address, finding.Port, finding.Protocol));
            }
        }
        return new ImportPreview(parsed.Scanner, parsed.Hosts.Count, parsed.Hosts.Sum(h => h.Ports.Count(p => p.State == PortState.Open)),
            newCount, reopenedCount, changedCount, closedCount, newPorts, reopened, closed, closeMissing);
    }

    private static void Count(ref int count, List<string> list, string label)
    {
        count++;
        if (list.Count < MaxListed)
            list.Add(label);
    }

    private static string Label(string address, int port, TransportProtocol protocol) =>
        $"{(address.Contains(':', StringComparison.Ordinal) ? $"[{address}]" : address)}:{port}/{protocol.Name()}";
}
