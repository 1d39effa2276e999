using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Targets;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>
/// A scanner and target hosts in network namespaces this test creates, with a known truth for
/// every TCP port. Nothing is connected to the machine's own namespace: packets go only between
/// these namespaces, on addresses from the benchmarking block 198.18.0.0/15 (RFC 2544).
///
///   [scanner ns] br0 198.18.N.1/24 ── veth ── eth0 198.18.N.11  [host 1 ns]
///                                 └── veth ── eth0 198.18.N.12  [host 2 ns] ...
///
/// Every link has IPv6 too, from the documentation prefix: 2001:db8:N::1/64 on br0 and
/// 2001:db8:N::11, ::12 ... on the hosts, with the same listeners and the same firewall rules.
///
/// Per host: open ports (in-process listeners, some with banners), ports dropped by iptables
/// (one with a listener behind), ports rejected with tcp-reset (closed to nmap) and with ICMP
/// port-unreachable (filtered), everything else closed. Needs root, iproute2 and iptables.
/// </summary>
public sealed class NetnsTestbed : IDisposable
{
    public static readonly int[] CommonOpenPorts = [1, 21, 22, 80, 6379, 8000, 9999, 31337, 65535];
    public static readonly int[] DropPorts = [135, 139, 445, 3389, 5900, 8081, .. Enumerable.Range(20000, 20)];
    public const int DropWithListener = 8081;
    public static readonly int[] RejectResetPorts = [23, 25, 110, 8443];
    public static readonly int[] RejectIcmpPorts = [111, 143, 993, 3306, 5432];
    public const int UdpResponder = 53;   // answers every datagram: open
    public const int UdpSilent = 161;     // bound, never answers: open|filtered
    public const int UdpDropped = 123;    // iptables DROP: open|filtered
    public const int UdpClosed = 1900;    // nothing bound: ICMP port unreachable, closed

    private static int instances;
    private readonly string prefix;
    private readonly List<string> namespaces = [];
    private readonly List<Socket> listeners = [];
    private readonly CancellationTokenSource stopping = new();

    private NetnsTestbed(int hostCount, bool groundTruthPorts)
    {
        // Short, unique names (interface names have 15 characters) so parallel test runs do not collide.
        var id = (Environment.ProcessId * 7 + Interlocked.Increment(ref instances)) % 200 + 20;
        prefix = $"pwt{id}";
        Subnet = $"198.18.{id}";
        ScannerAddress = IPAddress.Parse($"{Subnet}.1");
        Prefix6 = $"2001:db8:{id}:";
        try
        {
            Build(hostCount, groundTruthPorts);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Subnet { get; }

    public IPAddress ScannerAddress { get; }

    /// <summary>The hosts' IPv6 prefix without its last group: 2001:db8:N:: + host.</summary>
    public string Prefix6 { get; }

    public NetworkNamespace Scanner { get; private set; } = default!;

    public List<TestHost> Hosts { get; } = [];

    public static bool CanRun(out string reason)
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root" && !IsRootUid())
        {
            reason = "needs root (network namespaces, raw sockets)";
            return false;
        }
        foreach (var tool in new[] { "/usr/sbin/ip", "/usr/sbin/iptables" })
        {
            if (!File.Exists(tool) && !File.Exists(tool.Replace("/usr/sbin", "/sbin", StringComparison.Ordinal)))
            {
                reason = $"needs {Path.GetFileName(tool)} (scripts/test.sh installs it)";
                return false;
            }
        }
        reason = "";
        return true;
    }

    private static bool IsRootUid() => File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:\t0\t", StringComparison.Ordinal));

    /// <param name="groundTruthPorts">false: bare hosts, no listeners and no firewall rules, for tests that bring their own services.</param>
    public static NetnsTestbed Create(int hosts = 1, bool groundTruthPorts = true) => new(hosts, groundTruthPorts);

    private void Build(int hostCount, bool groundTruthPorts)
    {
        var scannerNs = $"{prefix}s";
        AddNamespace(scannerNs);
        NetworkNamespace.Shell($"ip -n {scannerNs} link add br0 type bridge && ip -n {scannerNs} addr add {ScannerAddress}/24 dev br0 && " +
            $"ip -n {scannerNs} addr add {Prefix6}:1/64 dev br0 nodad && ip -n {scannerNs} link set br0 up");
        Scanner = new NetworkNamespace(scannerNs);
        for (var i = 1; i <= hostCount; i++)
        {
            var ns = $"{prefix}h{i}";
            var address = IPAddress.Parse($"{Subnet}.{10 + i}");
            var address6 = IPAddress.Parse($"{Prefix6}:{10 + i}");
            AddNamespace(ns);
            NetworkNamespace.Shell(
                $"ip -n {ns} link add eth0 type veth peer name p{i} netns {scannerNs} && " +
                $"ip -n {scannerNs} link set p{i} master br0 up && " +
                $"ip -n {ns} addr add {address}/24 dev eth0 && ip -n {ns} addr add {address6}/64 dev eth0 nodad && ip -n {ns} link set eth0 up");
            var host = new TestHost(address, new NetworkNamespace(ns), groundTruthPorts ? [.. CommonOpenPorts, 40000 + i * 7919 % 20000, 12345 + i] : [])
            {
                Address6 = address6,
            };
            Hosts.Add(host);
            if (!groundTruthPorts)
                continue;
            Firewall(ns);
            foreach (var port in host.OpenPorts.Append(DropWithListener))
            {
                Listen(host, host.Address, port, port == 21 ? "220 (vsFTPd 3.0.3)\r\n"u8.ToArray() : []);
                Listen(host, host.Address6, port, []);
            }
            ListenUdp(host, UdpResponder, answer: true);
            ListenUdp(host, UdpSilent, answer: false);
        }
    }

    private void AddNamespace(string name)
    {
        NetworkNamespace.Shell($"ip netns add {name}");
        namespaces.Add(name);
        NetworkNamespace.Shell($"ip -n {name} link set lo up");
    }

    private static void Firewall(string ns)
    {
        Firewall(ns, "iptables", "icmp-port-unreachable");
        Firewall(ns, "ip6tables", "icmp6-port-unreachable");
    }

    private static void Firewall(string ns, string tables, string portUnreachable)
    {
        var ipt = $"ip netns exec {ns} {tables} -w";
        NetworkNamespace.Shell(
            $"{ipt} -A INPUT -p tcp -m multiport --dports 135,139,445,3389,5900,8081 -j DROP && " +
            $"{ipt} -A INPUT -p tcp --dport 20000:20019 -j DROP && " +
            $"{ipt} -A INPUT -p tcp -m multiport --dports {string.Join(',', RejectResetPorts)} -j REJECT --reject-with tcp-reset && " +
            $"{ipt} -A INPUT -p tcp -m multiport --dports {string.Join(',', RejectIcmpPorts)} -j REJECT --reject-with {portUnreachable} && " +
            $"{ipt} -A INPUT -p udp --dport {UdpDropped} -j DROP");
    }

    private void ListenUdp(TestHost host, int port, bool answer)
    {
        var socket = host.Namespace.Run(() =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(host.Address, port));
            return s;
        });
        listeners.Add(socket);
        if (!answer)
            return;
        _ = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    var received = await socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stopping.Token);
                    await socket.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), received.RemoteEndPoint);
                }
                catch (Exception)
                {
                    return;
                }
            }
        });
    }

    private void Listen(TestHost host, IPAddress address, int port, byte[] banner)
    {
        var socket = host.Namespace.Run(() =>
        {
            var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(address, port));
            s.Listen(4096);
            return s;
        });
        listeners.Add(socket);
        _ = Task.Run(async () =>
        {
            while (!stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await socket.AcceptAsync(stopping.Token);
                }
                catch (Exception)
                {
                    return;
                }
                try
                {
                    if (banner.Length > 0)
                        await client.SendAsync(banner);
                }
                catch (SocketException)
                {
                }
                finally
                {
                    client.Dispose();
                }
            }
        });
    }

    /// <summary>Random loss of this percentage of packets in each direction, at the targets (a lossy path, not a local firewall).</summary>
    public void SetLoss(double percent)
    {
        var p = (percent / 100).ToString("0.####", CultureInfo.InvariantCulture);
        foreach (var host in Hosts)
        {
            var ipt = $"ip netns exec {host.Namespace.Name} iptables -w";
            NetworkNamespace.Shell($"{ipt} -D INPUT -m statistic --mode random --probability {p} -j DROP 2>/dev/null; true");
            if (percent <= 0)
                continue;
            // First in INPUT, so a lost probe never reaches the REJECT rules either; OUTPUT loses replies.
            NetworkNamespace.Shell(
                $"{ipt} -I INPUT 1 -m statistic --mode random --probability {p} -j DROP && " +
                $"{ipt} -A OUTPUT -m statistic --mode random --probability {p} -j DROP");
        }
    }

    /// <summary>Takes the scanner's link down and its routes with it, as when an interface or a VPN goes away mid-scan.</summary>
    public void UnplugScanner() => NetworkNamespace.Shell($"ip -n {prefix}s link del br0");

    public TargetSet Targets() => TargetSet.Create(Hosts.Select(h => h.Address.ToString()));

    public TargetSet Targets6() => TargetSet.Create(Hosts.Select(h => h.Address6.ToString()));

    public void Dispose()
    {
        stopping.Cancel();
        foreach (var socket in listeners)
            socket.Dispose();
        foreach (var host in Hosts)
            host.Namespace.Dispose();
        Scanner?.Dispose();
        foreach (var ns in namespaces)
        {
            try
            {
                NetworkNamespace.Shell($"ip netns del {ns}");
            }
            catch (InvalidOperationException)
            {
            }
        }
        stopping.Dispose();
    }
}

public sealed record TestHost(IPAddress Address, NetworkNamespace Namespace, int[] OpenPorts)
{
    public IPAddress Address6 { get; init; } = IPAddress.IPv6None;

    /// <summary>What nmap -sS says for the port: the ground truth the engines must match.</summary>
    public PortStatus Expected(int port) =>
        OpenPorts.Contains(port) ? PortStatus.Open
        : NetnsTestbed.DropPorts.Contains(port) || NetnsTestbed.RejectIcmpPorts.Contains(port) ? PortStatus.Filtered
        : PortStatus.Closed;
}

/// <summary>A fact that needs root and the netns tools; skipped with the reason otherwise.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (!NetnsTestbed.CanRun(out var reason))
            Skip = reason;
    }
}
