using System.Diagnostics.Metrics;

namespace PortWatch.Web.Scans;

/// <summary>
/// PortWatch's own instruments (System.Diagnostics.Metrics, meter "PortWatch"), exported at
/// /metrics in Prometheus format (see Metrics/). Counters count on this node; gauges that describe
/// the database (runs by status, queue length) are observed from it when scraped.
/// </summary>
public static class ScanMetrics
{
    public const string MeterName = "PortWatch";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> ProbesSent = Meter.CreateCounter<long>("portwatch_probes_sent", "{probe}", "Probes sent by this node's shards.");

    public static readonly Counter<long> ProbesAnswered = Meter.CreateCounter<long>("portwatch_probes_answered", "{probe}", "Probes answered (SYN-ACK, reset, ICMP, UDP reply).");

    public static readonly Counter<long> ShardTakeovers = Meter.CreateCounter<long>("portwatch_shard_takeovers", "{shard}", "Shards fired again by this node after their node stopped renewing them.");

    public static readonly Counter<long> AlertDeliveries = Meter.CreateCounter<long>("portwatch_alert_deliveries", "{delivery}", "Alert deliveries sent.");

    public static readonly Counter<long> AlertDeliveryFailures = Meter.CreateCounter<long>("portwatch_alert_delivery_failures", "{delivery}", "Alert delivery attempts that failed.");

    public static readonly Histogram<double> ImportDuration = Meter.CreateHistogram<double>("portwatch_import_duration", "s", "Time to parse and store an imported scan file.");

    public static readonly Histogram<double> ExportDuration = Meter.CreateHistogram<double>("portwatch_export_duration", "s", "Time to write an export (findings or a run).");
}
