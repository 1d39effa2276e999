namespace PortWatch.Web.Data.Entities;

/// <summary>How to scan: which ports, how fast, how patiently.</summary>
public class ScanProfile
{
    public int Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>TCP port specification, e.g. "1-65535", "top1000", "22,80,443,8000-8100".</summary>
    public string TcpPorts { get; set; } = "1-65535";

    /// <summary>UDP port specification; empty means no UDP.</summary>
    public string UdpPorts { get; set; } = "";

    public bool TcpEnabled { get; set; } = true;

    public bool UdpEnabled { get; set; }

    /// <summary>Packets per second. A ceiling, not a goal: shared NAT gateways lose state when flooded.</summary>
    public int RatePps { get; set; } = 10_000;

    public int Retries { get; set; } = 2;

    public int TimeoutMs { get; set; } = 1_000;

    public ScanEngineKind Engine { get; set; } = ScanEngineKind.Auto;

    public bool ServiceDetection { get; set; } = true;

    /// <summary>nmap-style version intensity, 0 (light) to 9 (all probes).</summary>
    public int VersionIntensity { get; set; } = 7;

    /// <summary>Kept by PortWatch itself (the sentinel tier's profile, its ports the risk catalogue's): not offered for scans or schedules, and not editable.</summary>
    public bool BuiltIn { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
