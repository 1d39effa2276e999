using System.ComponentModel.DataAnnotations;
namespace PortWatch.Web.Configuration;

/// <summary>
/// Section "Flows": the NetFlow v5/v9 and IPFIX collector. A flow in which an asset's address
/// answers on a port with no open finding is checked at once (connect, then service detection);
/// a port found open becomes a finding "detected by flow" and is alerted like any other.
/// </summary>
public sealed class FlowsOptions : IValidatableObject
{
    public const string Section = "Flows";

    public bool Enabled { get; set; }

    [Range(1, 65535, ErrorMessage = "Flows:Port must be 1 to 65535 (default 2055).")]
    public int Port { get; set; } = 2055;

    /// <summary>The address to listen on (default all IPv4 addresses).</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>Exporters whose packets are read: addresses or CIDRs. Packets from anything else are dropped and counted.</summary>
    public List<string> AllowedExporters { get; set; } = [];

    /// <summary>Checks at most this many candidates a minute; more wait (or are dropped when the queue is full) and are counted.</summary>
    [Range(1, 100_000, ErrorMessage = "Flows:ChecksPerMinute must be 1 to 100000 (default 600).")]
    public int ChecksPerMinute { get; set; } = 600;

    /// <summary>An address and port checked once is not checked again for this long.</summary>
    [Range(1, 1440, ErrorMessage = "Flows:RecheckMinutes must be 1 to 1440 (default 10).")]
    public int RecheckMinutes { get; set; } = 10;

    [Range(100, 30_000, ErrorMessage = "Flows:CheckTimeoutMs must be 100 to 30000 (default 2000).")]
    public int CheckTimeoutMs { get; set; } = 2000;

    /// <summary>
    /// Service detection of a flow-found TCP port gets at most this long before the finding is recorded and alerted;
    /// a service that says nothing would otherwise hold the alert for half a minute. The next full scan identifies what this missed.
    /// </summary>
    [Range(1, 120, ErrorMessage = "Flows:ServiceDetectionSeconds must be 1 to 120 (default 8).")]
    public int ServiceDetectionSeconds { get; set; } = 8;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(ListenAddress, out _))
            yield return new ValidationResult($"Flows:ListenAddress must be an IP address, not '{ListenAddress}'.");
        foreach (var exporter in AllowedExporters)
        {
            if (!Scanning.Targets.IpRange.TryParse(exporter, out _, out var error))
                yield return new ValidationResult($"Flows:AllowedExporters has '{exporter}': {error}.");
        }
        if (Enabled && AllowedExporters.Count == 0)
            yield return new ValidationResult("Flows:AllowedExporters must list the exporters (addresses or CIDRs) when Flows:Enabled is true; packets from anything else are dropped.");
    }
}
