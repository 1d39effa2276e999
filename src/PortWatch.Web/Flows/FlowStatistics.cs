using System.Collections.Concurrent;
using System.Net;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Flows;

/// <summary>What one exporter has sent: for the live view and the metrics. Written by the collector's loop only; read by pages.</summary>
public sealed class ExporterStatistics
{
    public long Packets;
    public long Flows;
    public long Candidates;
    public DateTime LastPacketAt;
    public int Templates;
    public readonly ConcurrentDictionary<FlowDrop, long> Drops = new();
}

/// <summary>A candidate's check and its outcome, kept for the last hour.</summary>
public sealed record FlowCheck(DateTime At, string Address, int Port, TransportProtocol Protocol, string Outcome, long? FindingId);

/// <summary>The collector's counters and the recent checks, shared by the collector, the checker and the Flows page.</summary>
public sealed class FlowStatistics
{
    private readonly ConcurrentQueue<FlowCheck> checks = new();

    public ConcurrentDictionary<IPAddress, ExporterStatistics> Exporters { get; } = new();

    /// <summary>Packets from addresses not in Flows:AllowedExporters.</summary>
    public long RefusedPackets;

    /// <summary>Candidates dropped because the check queue was full.</summary>
    public long QueueDrops;

    public ExporterStatistics Of(IPAddress exporter) => Exporters.GetOrAdd(exporter, _ => new ExporterStatistics());

    public void Checked(FlowCheck check)
    {
        checks.Enqueue(check);
        var cutoff = check.At - TimeSpan.FromHours(1);
        while (checks.TryPeek(out var oldest) && (oldest.At < cutoff || checks.Count > 5000))
            checks.TryDequeue(out _);
    }

    public IReadOnlyList<FlowCheck> RecentChecks => [.. checks.Reverse()];
}
