using System.Diagnostics;
using System.Net;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>
/// Real Debian UDP services in a target namespace of a <see cref="NetnsTestbed"/>: dnsmasq on 53
/// (UDP and TCP) and on the non-standard port 5300, memcached with UDP on 11211, net-snmp's snmpd on
/// 161 (community "public"), chronyd serving NTP on 123, and rpcbind on 111 with rpc.statd (the RPC
/// "status" program) on 32765, both on TCP and UDP. Port 9 has nothing listening. Each daemon runs under
/// `ip netns exec` and is killed on dispose.
/// </summary>
public sealed class DatagramServiceTestbed : IDisposable
{
    public const int DnsOddPort = 5300;
    public const int ClosedPort = 9;
    public const int StatdPort = 32765;
    public static readonly int[] UdpPorts = [53, DnsOddPort, 111, 123, 161, StatdPort, 11211];

    private static readonly string[] Programs = ["/usr/sbin/dnsmasq", "/usr/bin/memcached", "/usr/sbin/snmpd", "/usr/sbin/chronyd", "/usr/sbin/rpcbind", "/usr/sbin/rpc.statd"];

    private readonly DaemonProcesses daemons;

    public DatagramServiceTestbed()
    {
        Bed = NetnsTestbed.Create(hosts: 1, groundTruthPorts: false);
        daemons = new DaemonProcesses(Bed.Hosts[0].Namespace.Name, "portwatch-udp-services");
        try
        {
            Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public NetnsTestbed Bed { get; }

    public IPAddress Address => Bed.Hosts[0].Address;

    public static bool CanRun(out string reason)
    {
        if (!NetnsTestbed.CanRun(out reason))
            return false;
        var missing = Programs.Where(p => !File.Exists(p)).ToList();
        reason = missing.Count == 0 ? "" : $"needs {string.Join(", ", missing)} (scripts/test.sh installs them)";
        return missing.Count == 0;
    }

    private void Start()
    {
        var ns = Bed.Hosts[0].Namespace.Name;
        var ip = Address.ToString();
        var d = daemons.Directory;
        Directory.CreateDirectory(d);
        foreach (var port in new[] { 53, DnsOddPort })
        {
            Daemon($"/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces " +
                $"--listen-address={ip} --port={port} --pid-file={d}/dnsmasq-{port}.pid --user=root --group=root", $"dnsmasq-{port}");
        }
        Daemon($"/usr/bin/memcached -u root -l {ip} -p 11211 -U 11211", "memcached");
        File.WriteAllText($"{d}/snmpd.conf", "rocommunity public default\n");
        Daemon($"/usr/sbin/snmpd -f -Lo -C -c {d}/snmpd.conf -p {d}/snmpd.pid udp:{ip}:161", "snmpd");
        File.WriteAllText($"{d}/chrony.conf", $"allow all\nbindaddress {ip}\ncmdport 0\nlocal stratum 10\npidfile {d}/chronyd.pid\n");
        // -x: serve time without ever touching this machine's clock.
        Daemon($"/usr/sbin/chronyd -d -x -u root -f {d}/chrony.conf", "chronyd");
        // rpcbind keeps a machine-wide lock and socket in /run, so it gets a /run of its own (a private mount namespace, shared with
        // rpc.statd, which registers through that socket as it starts): another rpcbind on this machine is left alone.
        Directory.CreateDirectory($"{d}/statd/sm");
        Directory.CreateDirectory($"{d}/statd/sm.bak");
        File.WriteAllText($"{d}/rpc.sh", "mount -t tmpfs tmpfs /run\n/usr/sbin/rpcbind -f -w &\n" +
            "for i in $(seq 1 100); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done\n" +
            $"exec /usr/sbin/rpc.statd -F --no-notify -p {StatdPort} -o {StatdPort + 1} -P {d}/statd\n");
        Daemon($"/usr/bin/unshare --mount --propagation private /bin/sh {d}/rpc.sh", "rpc");
        WaitForListeners(ns, UdpPorts);
    }

    private void Daemon(string commandLine, string name) => daemons.Start(commandLine, name);

    /// <summary>Until every UDP port is bound in the namespace (a datagram cannot tell a slow daemon from a silent one).</summary>
    private void WaitForListeners(string ns, IReadOnlyList<int> ports)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var bound = NetworkNamespace.Shell($"ip netns exec {ns} ss -Hlnu");
            var missing = ports.Where(p => !bound.Contains($"{Address}:{p} ", StringComparison.Ordinal) && !bound.Contains($"0.0.0.0:{p} ", StringComparison.Ordinal)).ToList();
            if (missing.Count == 0)
                return;
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"UDP ports {string.Join(", ", missing)} were not bound after 30 s; {daemons.Logs()}");
            }
            Thread.Sleep(100);
        }
    }

    public void Dispose()
    {
        daemons.Dispose();
        Bed.Dispose();
    }
}

/// <summary>A fact that needs root, the netns tools and the Debian UDP daemons.</summary>
public sealed class DatagramServiceTestbedFactAttribute : FactAttribute
{
    public DatagramServiceTestbedFactAttribute()
    {
        if (!DatagramServiceTestbed.CanRun(out var reason))
            Skip = reason;
    }
}
