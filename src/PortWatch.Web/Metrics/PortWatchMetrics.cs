using System.Diagnostics.Metrics;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Metrics;

/// <summary>
/// PortWatch's own instruments (System.Diagnostics.Metrics, meter "PortWatch"), exported at
/// /metrics in Prometheus format by OpenTelemetry's exporter (counters get "_total"). Counters count on this node;
/// the run gauges describe the whole database (every node reports the same), refreshed by the run
/// supervisor every few seconds rather than queried at scrape time.
/// </summary>
public static class PortWatchMetrics
{
    public const string MeterName = "PortWatch";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> ProbesSent = Meter.CreateCounter<long>("portwatch_probes_sent", description: "Probes sent by this node's shards.");

    public static readonly Counter<long> ProbesAnswered = Meter.CreateCounter<long>("portwatch_probes_answered", description: "Probes answered (SYN-ACK, reset, ICMP, UDP reply) on this node.");

    public static readonly Counter<long> ShardTakeovers = Meter.CreateCounter<long>("portwatch_shard_takeovers", description: "Shards this node fired again after their node stopped renewing them.");

    public static readonly Counter<long> AlertDeliveries = Meter.CreateCounter<long>("portwatch_alert_deliveries", description: "Alert digests delivered.");

    public static readonly Counter<long> AlertDeliveryFailures = Meter.CreateCounter<long>("portwatch_alert_delivery_failures", description: "Alert delivery attempts that failed.");

    public static readonly Histogram<double> ImportSeconds = Meter.CreateHistogram<double>("portwatch_import_duration", unit: "s", description: "Time to parse, store and triage an imported scan file.");

    public static readonly Histogram<double> ExportSeconds = Meter.CreateHistogram<double>("portwatch_export_duration", unit: "s", description: "Time to write an export (findings or a run).");

    private static volatile IReadOnlyDictionary<ScanRunStatus, int> runsByStatus = new Dictionary<ScanRunStatus, int>();
    private static volatile int queuedShards;
    private static Func<double> packetRate = () => 0;

    static PortWatchMetrics()
    {
        Meter.CreateObservableGauge("portwatch_runs", () => runsByStatus.Select(p => new Measurement<int>(p.Value, new KeyValuePair<string, object?>("status", p.Key.ToString().ToLowerInvariant()))),
            description: "Scan runs by status (queued and running ones; finished ones since the last restart of the counter's source).");
        Meter.CreateObservableGauge("portwatch_queue_length", () => queuedShards, description: "Shards waiting for a worker, over all runs.");
        Meter.CreateObservableGauge("portwatch_packet_rate", () => packetRate(), description: "Packets per second this node's shards send now.");
    }

    /// <summary>What the run supervisor last counted in the database.</summary>
    public static void SetRunCounts(IReadOnlyDictionary<ScanRunStatus, int> byStatus, int waitingShards)
    {
        runsByStatus = byStatus;
        queuedShards = waitingShards;
    }

    /// <summary>Where the current packet rate comes from (this node's live shard progress).</summary>
    public static void UseRate(Func<double> rate) => packetRate = rate;
}
