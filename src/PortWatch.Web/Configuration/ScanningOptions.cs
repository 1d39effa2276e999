namespace PortWatch.Web.Configuration;

/// <summary>Section "Scanning": what this instance may scan, and how hard.</summary>
public sealed class ScanningOptions
{
    public const string Section = "Scanning";

    /// <summary>Ranges the organisation may scan (addresses, CIDRs). Targets outside are refused. Empty: no restriction.</summary>
    public List<string> AllowedScope { get; set; } = [];

    /// <summary>The sum of the packet rates of all scans running on this node stays under this (NAT gateways' conntrack tables).</summary>
    public int MaxTotalRatePps { get; set; } = 50_000;

    /// <summary>Scans run at once on this node; further ones wait.</summary>
    public int MaxConcurrentScans { get; set; } = 2;

    /// <summary>
    /// Leave the scanner's own addresses (its interfaces, loopback, and <see cref="ScannerAddresses"/>)
    /// out of every run. When false they are scanned and their findings flagged: a connect scan of
    /// oneself sees the kernel's own sockets, and simultaneous open can fake open ports.
    /// </summary>
    public bool ExcludeScannerAddresses { get; set; } = true;

    /// <summary>Addresses the scanner is known by that its interfaces do not show, e.g. the NAT gateway's public IP.</summary>
    public List<string> ScannerAddresses { get; set; } = [];

    /// <summary>Fixed source port of SYN probes, outside the ephemeral range.</summary>
    public int SourcePort { get; set; } = 61_000;

    /// <summary>Service probe database; empty: nmap's if installed, else the built-in set.</summary>
    public string? ProbeDatabasePath { get; set; }

    public bool BuiltInProbesOnly { get; set; }

    /// <summary>Target addresses per shard: a run over more is split into shards that the nodes share.</summary>
    public int ShardSize { get; set; } = 64;

    /// <summary>Open (non-closed) observations written per database round trip.</summary>
    public int PersistBatchSize { get; set; } = 500;
}
