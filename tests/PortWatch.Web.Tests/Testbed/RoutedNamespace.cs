using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Tests.Testbed;

namespace PortWatch.Web.Tests.Testbed;

/// <summary>
/// A network namespace joined to this machine's own namespace by one veth pair, so the dashboard
/// under test (which runs here) reaches it directly: 198.19.N.1/24 on this side, 198.19.N.2 inside.
/// Addresses are from the benchmarking block 198.18.0.0/15 (RFC 2544); nothing else is routed, and
/// everything is removed on dispose. Needs root, iproute2 and iptables.
/// </summary>
public sealed class RoutedNamespace : IDisposable
{
    private static int instances;
    private readonly NamespaceListeners listeners = new();

    public RoutedNamespace(string role)
    {
        // 198.19.242-253: apart from the exporter testbed's 198.19.2-241, which also has routes in this namespace.
        var id = (Environment.ProcessId * 13 + Interlocked.Increment(ref instances) * 7) % 12 + 242;
        Name = $"pw{role}{id}";
        HostSide = $"pw{role}{id}h";
        Address = IPAddress.Parse($"198.19.{id}.2");
        HostAddress = IPAddress.Parse($"198.19.{id}.1");
        NetworkNamespace.Shell($"ip netns del {Name} 2>/dev/null; ip link del {HostSide} 2>/dev/null; true");
        NetworkNamespace.Shell($"ip netns add {Name} && ip link add {HostSide} type veth peer name eth0 netns {Name} && " +
            $"ip addr add {HostAddress}/24 dev {HostSide} && ip link set {HostSide} up && " +
            $"ip -n {Name} addr add {Address}/24 dev eth0 && ip -n {Name} link set eth0 up && ip -n {Name} link set lo up");
        Inside = new NetworkNamespace(Name);
    }

    public string Name { get; }

    /// <summary>The veth end in this machine's namespace.</summary>
    public string HostSide { get; }

    public IPAddress Address { get; }

    public IPAddress HostAddress { get; }

    public NetworkNamespace Inside { get; }

    public static bool CanRun(out string reason)
    {
        if (!File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:\t0\t", StringComparison.Ordinal)))
            reason = "needs root (network namespaces)";
        else if (!File.Exists("/usr/sbin/ip") || !File.Exists("/usr/sbin/iptables"))
            reason = "needs iproute2 and iptables (scripts/test.sh installs them)";
        else
        {
            reason = "";
            return true;
        }
        return false;
    }

    /// <summary>A shell command inside the namespace.</summary>
    public string Exec(string command) => NetworkNamespace.Shell($"ip netns exec {Name} sh -c '{command}'");

    /// <summary>A listener inside the namespace that takes every connection and closes it.</summary>
    public void Listen(int port) => listeners.Listen(Inside, port);

    public void Dispose()
    {
        listeners.Dispose();
        Inside.Dispose();
        try
        {
            NetworkNamespace.Shell($"ip netns del {Name}; ip link del {HostSide} 2>/dev/null; true");
        }
        catch (InvalidOperationException)
        {
        }
    }
}

/// <summary>A fact that needs root, the netns tools and the programs in <see cref="Needs"/>; skipped with the reason otherwise.</summary>
public sealed class RoutedNamespaceFactAttribute : FactAttribute
{
    /// <summary>Programs the test runs, by path (scripts/test.sh installs them).</summary>
    public string[] Needs { get; set; } = [];

    public override string? Skip
    {
        get => base.Skip ?? (!RoutedNamespace.CanRun(out var reason) ? reason
            : Needs.FirstOrDefault(p => !File.Exists(p)) is { } missing ? $"needs {Path.GetFileName(missing)} (scripts/test.sh installs it)" : null);
        set => base.Skip = value;
    }
}
