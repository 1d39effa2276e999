using System.Text.RegularExpressions;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Probes;

/// <summary>A parsed probe database: nmap-service-probes, a configured file, or PortWatch's built-in set.</summary>
public sealed class ServiceProbeDatabase
{
    public required string Source { get; init; }

    public List<ServiceProbe> Probes { get; } = [];

    /// <summary>Ports never to probe (nmap's "Exclude", e.g. printers that print whatever they receive).</summary>
    public PortSet Excluded { get; set; } = PortSet.Empty;

    /// <summary>Lines that could not be used, each reported once with its line number.</summary>
    public List<ProbeFileWarning> Warnings { get; } = [];

    public int MatchCount => Probes.Sum(p => p.Matches.Count);

    public ServiceProbe? Find(PortProtocol protocol, string name) =>
        Probes.FirstOrDefault(p => p.Protocol == protocol && p.Name == name);
}

public sealed record ProbeFileWarning(int Line, string Message);

public sealed class ServiceProbe
{
    public required PortProtocol Protocol { get; init; }

    public required string Name { get; init; }

    public required byte[] Payload { get; init; }

    /// <summary>Only send when a service is expected to answer it (nmap's "no-payload" probes are skipped for TCP connects).</summary>
    public bool NoPayload { get; init; }

    public HashSet<ushort> Ports { get; } = [];

    public HashSet<ushort> SslPorts { get; } = [];

    public int TotalWaitMs { get; set; } = 5000;

    public int TcpWrappedMs { get; set; } = 3000;

    /// <summary>1 (almost always useful) to 9 (rarely); probes above the version intensity are tried only on their listed ports.</summary>
    public int Rarity { get; set; } = 1;

    public List<string> Fallbacks { get; } = [];

    public List<ServiceMatch> Matches { get; } = [];

    public int Line { get; init; }

    public override string ToString() => $"{Protocol} {Name}";
}

/// <summary>A match or softmatch line: a pattern and what to report when it matches.</summary>
public sealed class ServiceMatch
{
    public required string Service { get; init; }

    public required Regex Pattern { get; init; }

    public required bool IsSoft { get; init; }

    public VersionTemplate Version { get; init; } = VersionTemplate.Empty;

    public int Line { get; init; }
}

/// <summary>What a match says about a service, before substitution: the p/ v/ i/ h/ o/ d/ fields and CPEs.</summary>
public sealed record VersionTemplate(string? Product, string? Version, string? Info, string? Hostname, string? OsType, string? DeviceType, IReadOnlyList<string> Cpes)
{
    public static readonly VersionTemplate Empty = new(null, null, null, null, null, null, []);
}

/// <summary>What service detection concluded for one port.</summary>
public sealed record ServiceIdentity
{
    public required string Name { get; init; }

    public string? Product { get; init; }

    public string? Version { get; init; }

    public string? ExtraInfo { get; init; }

    public string? Hostname { get; init; }

    public string? OsType { get; init; }

    public string? DeviceType { get; init; }

    public IReadOnlyList<string> Cpes { get; init; } = [];

    /// <summary>Only a softmatch named the service: product and version are unknown.</summary>
    public bool IsSoftMatch { get; init; }

    /// <summary>Which probe's answer matched, and the line of the match in the probe file.</summary>
    public string? Probe { get; init; }

    public int MatchLine { get; init; }
}
