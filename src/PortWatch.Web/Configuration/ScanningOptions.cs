using System.ComponentModel.DataAnnotations;
using PortWatch.Scanning.Targets;

namespace PortWatch.Web.Configuration;

/// <summary>Section "Scanning": what this instance may scan, and how hard.</summary>
public sealed class ScanningOptions : IValidatableObject
{
    public const string Section = "Scanning";

    /// <summary>Ranges the organisation may scan (addresses, CIDRs). Targets outside are refused. Empty: no restriction.</summary>
    public List<string> AllowedScope { get; set; } = [];

    /// <summary>
    /// The sum of the packet rates of all scans running at once, on every node of the cluster (the
    /// grants are kept in the shared database), stays under this: NAT gateways' conntrack tables.
    /// </summary>
    [Range(1, 100_000_000, ErrorMessage = "Scanning:MaxTotalRatePps must be 1 to 100000000 packets a second (default 50000).")]
    public int MaxTotalRatePps { get; set; } = 50_000;

    /// <summary>Scans run at once on this node; further ones wait.</summary>
    [Range(1, 64, ErrorMessage = "Scanning:MaxConcurrentScans must be 1 to 64 (default 2).")]
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
    [Range(1024, 65535, ErrorMessage = "Scanning:SourcePort must be 1024 to 65535, outside the ephemeral range (default 61000).")]
    public int SourcePort { get; set; } = 61_000;

    /// <summary>SYN probes leave through this interface only (its routes); empty: the interface each route names.</summary>
    [RegularExpression("^[A-Za-z0-9_.:@-]{1,15}$", ErrorMessage = "Scanning:Interface must be an interface name such as eth0 (1 to 15 letters, digits or _.:@-).")]
    public string? Interface { get; set; }

    /// <summary>How SYN probes are sent: "auto" (a packet socket when allowed, else a raw IPv4 socket) or "raw".</summary>
    [RegularExpression("^(auto|raw)$", ErrorMessage = "Scanning:SendPath must be auto or raw.")]
    public string SendPath { get; set; } = "auto";

    /// <summary>Service probe database; empty: nmap's if installed, else the built-in set.</summary>
    public string? ProbeDatabasePath { get; set; }

    public bool BuiltInProbesOnly { get; set; }

    /// <summary>Target addresses per shard: a run over more is split into shards that the nodes share.</summary>
    [Range(1, 16_777_216, ErrorMessage = "Scanning:ShardSize must be 1 to 16777216 addresses (default 64).")]
    public int ShardSize { get; set; } = 64;

    /// <summary>Open (non-closed) observations written per database round trip.</summary>
    [Range(1, 100_000, ErrorMessage = "Scanning:PersistBatchSize must be 1 to 100000 (default 500).")]
    public int PersistBatchSize { get; set; } = 500;

    /// <summary>
    /// How long a node's claim on work holds without renewal: a running shard's heartbeat and the
    /// claim on finalising a run (service detection, triage, alerts). Claims are renewed at a fifth
    /// of this while the node works; another node takes the work over only once it has expired.
    /// </summary>
    [Range(5, 3600, ErrorMessage = "Scanning:LeaseSeconds must be 5 to 3600 (default 20).")]
    public int LeaseSeconds { get; set; } = 20;

    /// <summary>Database writes of a scan (checkpoints, results) that fail are retried for this long, with back-off, before the shard fails.</summary>
    [Range(0, 86_400, ErrorMessage = "Scanning:WriteRetrySeconds must be 0 to 86400 (default 300).")]
    public int WriteRetrySeconds { get; set; } = 300;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, list) in new[] { (nameof(AllowedScope), AllowedScope), (nameof(ScannerAddresses), ScannerAddresses) })
        {
            foreach (var entry in list)
            {
                if (!IpRange.TryParse(entry, out _, out var problem))
                    yield return new ValidationResult($"Scanning:{name} has '{entry}', which is not an address, range or CIDR: {problem}");
            }
        }
    }
}
