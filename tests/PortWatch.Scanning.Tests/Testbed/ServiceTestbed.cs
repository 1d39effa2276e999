using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PortWatch.Scanning.Tests.Testbed;

/// <summary>
/// Real Debian services in a target namespace of a <see cref="NetnsTestbed"/>: openssh-server
/// on 22, nginx on 80 and with a self-signed certificate on 443, redis-server on 6379,
/// PostgreSQL on 5432, the mosquitto MQTT broker on 1883, vsftpd on 21, an rsync daemon on 873,
/// git daemon on 9418, ngIRCd on 6667, tinyproxy on 8888, Squid on 3128, lighttpd on 8081 and MariaDB on 3306. Each daemon runs under `ip netns exec` and is killed on dispose.
/// </summary>
public sealed class ServiceTestbed : IDisposable
{
    public const string CertificateName = "portwatch-test.example";
    public const string PageTitle = "PortWatch test page";
    public static readonly int[] Ports = [21, 22, 80, 443, 873, 1883, 3128, 3306, 5432, 6379, 6667, 8081, 8888, 9418];

    private readonly Dictionary<int, string> logs = [];
    private readonly DaemonProcesses daemons;

    public ServiceTestbed()
    {
        Bed = NetnsTestbed.Create(hosts: 1, groundTruthPorts: false);
        daemons = new DaemonProcesses(Bed.Hosts[0].Namespace.Name, "portwatch-services");
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
        string[] needed = ["/usr/sbin/sshd", "/usr/sbin/nginx", "/usr/bin/redis-server", "/usr/bin/openssl", "/usr/bin/ssh-keygen", "/usr/sbin/mosquitto",
            "/usr/sbin/vsftpd", "/usr/bin/rsync", "/usr/lib/git-core/git-daemon", "/usr/sbin/ngircd", "/usr/bin/tinyproxy", "/usr/sbin/squid", "/usr/sbin/lighttpd",
            "/usr/sbin/mariadbd", "/usr/bin/mariadb-install-db"];
        var missing = needed.Where(p => !File.Exists(p)).Append(PostgresBin() is null ? "postgresql" : null).OfType<string>().ToList();
        reason = missing.Count == 0 ? "" : $"needs {string.Join(", ", missing)} (scripts/test.sh installs them)";
        return missing.Count == 0;
    }

    private static string? PostgresBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")))
            : null;

    private void Start()
    {
        var ip = Address.ToString();
        var d = daemons.Directory;
        Directory.CreateDirectory(d);
        Directory.CreateDirectory("/run/sshd");

        NetworkNamespace.Shell($"ssh-keygen -q -t ed25519 -N '' -f {d}/ssh_host_key");
        File.WriteAllText($"{d}/sshd_config", $"Port 22\nListenAddress {ip}\nHostKey {d}/ssh_host_key\nPidFile {d}/sshd.pid\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n");
        Daemon("/usr/sbin/sshd", $"-D -e -f {d}/sshd_config", 22);

        NetworkNamespace.Shell($"openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout {d}/tls.key -out {d}/tls.crt " +
            $"-subj /CN={CertificateName} -addext subjectAltName=DNS:{CertificateName},DNS:www.{CertificateName} 2>/dev/null");
        Directory.CreateDirectory($"{d}/www");
        File.WriteAllText($"{d}/www/index.html", $"<html><head><title>{PageTitle}</title></head><body>ok</body></html>");
        File.WriteAllText($"{d}/nginx.conf",
            $"daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/nginx.err;\n" +
            "events { worker_connections 64; }\n" +
            $"http {{ access_log off; client_body_temp_path {d}/nb; proxy_temp_path {d}/np; fastcgi_temp_path {d}/nf; uwsgi_temp_path {d}/nu; scgi_temp_path {d}/ns;\n" +
            $"  server {{ listen {ip}:80; root {d}/www; }}\n" +
            $"  server {{ listen {ip}:443 ssl; ssl_certificate {d}/tls.crt; ssl_certificate_key {d}/tls.key; root {d}/www; }} }}\n");
        Daemon("/usr/sbin/nginx", $"-c {d}/nginx.conf", 80);
        logs[443] = logs[80];

        Daemon("/usr/bin/redis-server", $"--bind {ip} --port 6379 --save \"\" --appendonly no --protected-mode no --dir {d}", 6379);

        File.WriteAllText($"{d}/mosquitto.conf", $"listener 1883 {ip}\nallow_anonymous true\nuser root\npersistence false\n");
        Daemon("/usr/sbin/mosquitto", $"-c {d}/mosquitto.conf", 1883);

        Directory.CreateDirectory($"{d}/empty");
        File.WriteAllText($"{d}/vsftpd.conf", $"listen=YES\nlisten_address={ip}\nlisten_port=21\nbackground=NO\nanonymous_enable=YES\nanon_root={d}/empty\nlocal_enable=NO\n" +
            $"secure_chroot_dir={d}/empty\nnopriv_user=nobody\nseccomp_sandbox=NO\n");
        Daemon("/usr/sbin/vsftpd", $"{d}/vsftpd.conf", 21);

        File.WriteAllText($"{d}/rsyncd.conf", $"pid file = {d}/rsyncd.pid\nuse chroot = no\n[www]\npath = {d}/www\nread only = yes\n");
        Daemon("/usr/bin/rsync", $"--daemon --no-detach --config={d}/rsyncd.conf --address={ip} --port=873", 873);

        Daemon("/usr/lib/git-core/git-daemon", $"--listen={ip} --port=9418 --base-path={d} --reuseaddr", 9418);

        File.WriteAllText($"{d}/ngircd.conf", $"[Global]\nName = irc.portwatch.test\nListen = {ip}\nPorts = 6667\nPidFile = {d}/ngircd.pid\n" +
            "ServerUID = nobody\nServerGID = nogroup\n[Options]\nIdent = no\nDNS = no\nPAM = no\n");
        Daemon("/usr/sbin/ngircd", $"--nodaemon --config {d}/ngircd.conf", 6667);

        File.WriteAllText($"{d}/tinyproxy.conf", $"Port 8888\nListen {ip}\nUser nobody\nGroup nogroup\nMaxClients 20\nTimeout 60\n");
        Daemon("/usr/bin/tinyproxy", $"-d -c {d}/tinyproxy.conf", 8888);

        File.WriteAllText($"{d}/squid.conf", $"http_port {ip}:3128\nhttp_access deny all\ncache deny all\naccess_log none\ncache_log {d}/squid-cache.log\n" +
            $"pid_filename {d}/squid.pid\ncoredump_dir {d}\nshutdown_lifetime 0 seconds\n");
        Daemon("/usr/sbin/squid", $"-N -f {d}/squid.conf", 3128);

        File.WriteAllText($"{d}/lighttpd.conf", $"server.document-root = \"{d}/www\"\nserver.bind = \"{ip}\"\nserver.port = 8081\n" +
            $"server.pid-file = \"{d}/lighttpd.pid\"\nserver.errorlog = \"{d}/lighttpd.err\"\n");
        Daemon("/usr/sbin/lighttpd", $"-D -f {d}/lighttpd.conf", 8081);

        // Grant tables skipped: the greeting (with the version) goes to any host, as on a server that lets its clients in.
        NetworkNamespace.Shell($"mariadb-install-db --no-defaults --datadir={d}/mariadb --user=root --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1");
        Daemon("/usr/sbin/mariadbd", $"--no-defaults --datadir={d}/mariadb --socket={d}/mariadb.sock --pid-file={d}/mariadb.pid --bind-address={ip} --port=3306 " +
            "--user=root --skip-grant-tables --skip-name-resolve", 3306);

        var bin = PostgresBin()!;
        var data = $"{d}/pg";
        NetworkNamespace.Shell($"mkdir -p {data} && chown postgres {data} && chmod 700 {data} && chmod 755 {d} && " +
            $"runuser -u postgres -- {bin}/initdb -D {data} -U postgres --auth=trust >/dev/null");
        Daemon("/usr/sbin/runuser", $"-u postgres -- {bin}/postgres -D {data} -h {ip} -k {data} -p 5432", 5432);

        WaitForListeners();
    }

    private void Daemon(string program, string arguments, int port) => logs[port] = daemons.Start($"{program} {arguments}", $"daemon-{port}");

    private void WaitForListeners()
    {
        var deadline = Stopwatch.StartNew();
        foreach (var port in Ports)
        {
            while (true)
            {
                using var socket = Bed.Scanner.NewSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Connect(new IPEndPoint(Address, port));
                    break;
                }
                catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
                {
                    Thread.Sleep(200);
                }
                catch (SocketException ex)
                {
                    var log = logs.TryGetValue(port, out var path) && File.Exists(path) ? File.ReadAllText(path) : "";
                    throw new InvalidOperationException($"service on port {port} did not start: {ex.SocketErrorCode}; its output: {log[Math.Max(0, log.Length - 800)..]}");
                }
            }
        }
    }

    public void Dispose()
    {
        daemons.Dispose();
        Bed.Dispose();
    }
}

/// <summary>A fact that needs root, the netns tools and the Debian service packages.</summary>
public sealed class ServiceTestbedFactAttribute : FactAttribute
{
    public ServiceTestbedFactAttribute()
    {
        if (!ServiceTestbed.CanRun(out var reason))
            Skip = reason;
    }
}
