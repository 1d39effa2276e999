using PortWatch.Scanning.Targets;
using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Triage;

/// <summary>The ports a run probed; a port outside them cannot have been seen closed.</summary>
internal sealed class ScannedPorts(string? tcpSpec, string? udpSpec)
{
    private readonly HashSet<int>? tcp = Parse(tcpSpec, PortProtocol.Tcp);
    private readonly HashSet<int>? udp = Parse(udpSpec, PortProtocol.Udp);

    /// <summary>How many TCP ports the run probed on each address (0 when it says nothing).</summary>
    public int TcpCount => tcp?.Count ?? 0;

    public bool Contains(int port, TransportProtocol protocol) =>
        (protocol == TransportProtocol.Tcp ? tcp : udp)?.Contains(port) == true;

    private static HashSet<int>? Parse(string? spec, PortProtocol protocol)
    {
        if (string.IsNullOrWhiteSpace(spec))
            return null;
        var set = PortSet.Parse(spec, protocol);
        return (protocol == PortProtocol.Tcp ? set.Tcp : set.Udp).Select(p => (int)p).ToHashSet();
    }
}
