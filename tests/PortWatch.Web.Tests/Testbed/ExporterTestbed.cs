using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortWatch.Scanning.Tests.Testbed;

namespace PortWatch.Web.Tests.Testbed;

/// <summary>
/// A router namespace with a real flow exporter (Debian's softflowd) watching the link to a target,
/// and a client behind a second link. This machine's namespace, where the dashboard under test runs,
/// is joined to the router, so it receives the export and reaches the target for its check:
///
///   [this ns] 198.19.A.1 ── 198.19.A.2 [router: softflowd -i tgt] 198.19.B.1 ── 198.19.B.2 [target]
///                                                                  198.19.C.1 ── 198.19.C.2 [client]
///
/// Addresses are from the benchmarking block 198.18.0.0/15 (RFC 2544). Everything is removed on dispose.
/// </summary>
public sealed class ExporterTestbed : IDisposable
{
    private static int instances;
    private readonly int id;
    private readonly List<string> namespaces = [];
    private readonly NamespaceListeners listeners = new();
    private Process? exporter;

    public ExporterTestbed()
    {
        id = (Environment.ProcessId * 11 + Interlocked.Increment(ref instances) * 3) % 80 + 2;
        var (a, b, c) = (id, id + 80, id + 160);
        RouterAddress = IPAddress.Parse($"198.19.{a}.2");
        HostAddress = IPAddress.Parse($"198.19.{a}.1");
        TargetAddress = IPAddress.Parse($"198.19.{b}.2");
        ClientAddress = IPAddress.Parse($"198.19.{c}.2");
        Router = $"pwfr{id}";
        var target = $"pwft{id}";
        var client = $"pwfc{id}";
        HostSide = $"pwfr{id}h";
        try
        {
            foreach (var ns in new[] { Router, target, client })
            {
                NetworkNamespace.Shell($"ip netns del {ns} 2>/dev/null; true");
                NetworkNamespace.Shell($"ip netns add {ns} && ip -n {ns} link set lo up");
                namespaces.Add(ns);
            }
            NetworkNamespace.Shell($"ip link del {HostSide} 2>/dev/null; true");
            NetworkNamespace.Shell(string.Join(" && ",
                $"ip link add {HostSide} type veth peer name up0 netns {Router}",
                $"ip addr add {HostAddress}/24 dev {HostSide}", $"ip link set {HostSide} up",
                $"ip -n {Router} addr add {RouterAddress}/24 dev up0", $"ip -n {Router} link set up0 up",
                $"ip -n {Router} link add tgt type veth peer name eth0 netns {target}",
                $"ip -n {Router} addr add 198.19.{b}.1/24 dev tgt", $"ip -n {Router} link set tgt up",
                $"ip -n {target} addr add {TargetAddress}/24 dev eth0", $"ip -n {target} link set eth0 up", $"ip -n {target} route add default via 198.19.{b}.1",
                $"ip -n {Router} link add cli type veth peer name eth0 netns {client}",
                $"ip -n {Router} addr add 198.19.{c}.1/24 dev cli", $"ip -n {Router} link set cli up",
                $"ip -n {client} addr add {ClientAddress}/24 dev eth0", $"ip -n {client} link set eth0 up", $"ip -n {client} route add default via 198.19.{c}.1",
                $"ip netns exec {Router} sysctl -qw net.ipv4.ip_forward=1",
                // Only the target's link is routed from here: the dashboard's check goes through the router, like the client's connection.
                $"ip route add 198.19.{b}.0/24 via {RouterAddress}"));
            Target = new NetworkNamespace(target);
            Client = new NetworkNamespace(client);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Router { get; }

    public string HostSide { get; }

    public IPAddress HostAddress { get; }

    public IPAddress RouterAddress { get; }

    public IPAddress TargetAddress { get; }

    public IPAddress ClientAddress { get; }

    public NetworkNamespace Target { get; } = null!;

    public NetworkNamespace Client { get; } = null!;

    public const string Softflowd = "/usr/sbin/softflowd";

    /// <summary>softflowd on the router's link to the target, exporting to this machine's side at <paramref name="collectorPort"/>, flows expired after a second.</summary>
    /// <param name="version">9 (NetFlow v9) or 10 (IPFIX).</param>
    public async Task StartExporterAsync(int collectorPort, int version)
    {
        var capturing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = $"/tmp/pwsoftflowd-{id}";
        exporter = Process.Start(new ProcessStartInfo("ip",
            ["netns", "exec", Router, Softflowd, "-d", "-i", "tgt", "-v", version.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-n", $"{HostAddress}:{collectorPort}", "-t", "maxlife=1", "-t", "expint=1", "-t", "tcp=1", "-t", "tcp.fin=1", "-t", "tcp.rst=1", "-t", "general=1",
                "-p", $"{run}.pid", "-c", $"{run}.ctl"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        void Read(string? line)
        {
            if (line is null)
                return;
            lock (output)
                output.Add(line);
            // softflowd says so once its capture is open: traffic before that is not seen.
            if (line.StartsWith("Exporting flows", StringComparison.Ordinal))
                capturing.TrySetResult();
        }
        exporter.OutputDataReceived += (_, e) => Read(e.Data);
        exporter.ErrorDataReceived += (_, e) => Read(e.Data);
        exporter.BeginOutputReadLine();
        exporter.BeginErrorReadLine();
        try
        {
            await capturing.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"softflowd did not start: {ExporterOutput}");
        }
    }

    private readonly List<string> output = [];

    public string ExporterOutput
    {
        get
        {
            lock (output)
                return string.Join(" / ", output);
        }
    }

    public bool ExporterRunning => exporter is { HasExited: false };

    /// <summary>A listener in <paramref name="ns"/> that takes each connection, reads what comes and closes it.</summary>
    public int Listen(NetworkNamespace ns, int port) => listeners.Listen(ns, port);

    /// <summary>One connection from <paramref name="from"/> to <paramref name="to"/>:<paramref name="port"/>, <paramref name="bytes"/> sent, then closed.</summary>
    public static async Task ConnectAsync(NetworkNamespace from, IPAddress to, int port, int bytes = 8)
    {
        using var socket = from.NewSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(to, port)).WaitAsync(TimeSpan.FromSeconds(5));
        var chunk = new byte[Math.Min(bytes, 16384)];
        for (var sent = 0; sent < bytes; sent += chunk.Length)
            await socket.SendAsync(chunk, SocketFlags.None);
        socket.Shutdown(SocketShutdown.Both);
    }

    public void Dispose()
    {
        try
        {
            if (exporter is { HasExited: false })
                exporter.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        exporter?.Dispose();
        listeners.Dispose();
        Target?.Dispose();
        Client?.Dispose();
        foreach (var ns in namespaces)
        {
            try
            {
                NetworkNamespace.Shell($"ip netns pids {ns} | xargs -r kill 2>/dev/null; ip netns del {ns}; true");
            }
            catch (InvalidOperationException)
            {
            }
        }
        try
        {
            NetworkNamespace.Shell($"ip link del {HostSide} 2>/dev/null; true");
        }
        catch (InvalidOperationException)
        {
        }
    }
}
