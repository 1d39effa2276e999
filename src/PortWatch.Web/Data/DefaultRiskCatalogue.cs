using PortWatch.Web.Data.Entities;

namespace PortWatch.Web.Data;

/// <summary>
/// Ports that should almost never face the internet. Seeded once into an empty catalogue;
/// from then on analysts own the list.
/// </summary>
public static class DefaultRiskCatalogue
{
    public static IEnumerable<RiskRule> Create()
    {
        RiskRule Tcp(int port, string name, Severity severity, string description) =>
            new() { Port = port, Protocol = TransportProtocol.Tcp, Name = name, Severity = severity, Description = description };
        RiskRule Udp(int port, string name, Severity severity, string description) =>
            new() { Port = port, Protocol = TransportProtocol.Udp, Name = name, Severity = severity, Description = description };

        return
        [
            Tcp(21, "FTP", Severity.Medium, "Clear-text credentials; often anonymous access"),
            Tcp(23, "Telnet", Severity.High, "Clear-text remote shell"),
            Tcp(135, "MS RPC", Severity.High, "Windows RPC endpoint mapper"),
            Tcp(139, "NetBIOS", Severity.High, "Windows file sharing (legacy)"),
            Tcp(445, "SMB", Severity.Critical, "Windows file sharing; wormable vulnerabilities"),
            Tcp(1433, "MS SQL Server", Severity.High, "Database exposed"),
            Tcp(2375, "Docker API (plain)", Severity.Critical, "Unauthenticated Docker daemon: root on the host"),
            Tcp(2376, "Docker API (TLS)", Severity.High, "Docker daemon"),
            Tcp(2379, "etcd", Severity.Critical, "Cluster secrets store"),
            Tcp(3306, "MySQL", Severity.High, "Database exposed"),
            Tcp(3389, "RDP", Severity.High, "Remote desktop; brute force and pre-auth exploits"),
            Tcp(5432, "PostgreSQL", Severity.High, "Database exposed"),
            Tcp(5900, "VNC", Severity.High, "Remote desktop, often weak passwords"),
            Tcp(5984, "CouchDB", Severity.High, "Database exposed"),
            Tcp(6379, "Redis", Severity.Critical, "Often no authentication; write access leads to code execution"),
            Tcp(8500, "Consul", Severity.High, "Service mesh control API"),
            Tcp(9200, "Elasticsearch", Severity.High, "Search cluster, often no authentication"),
            Tcp(10250, "Kubelet", Severity.Critical, "Kubernetes node API"),
            Tcp(11211, "memcached", Severity.High, "Cache without authentication"),
            Tcp(27017, "MongoDB", Severity.High, "Database exposed"),
            Udp(53, "DNS", Severity.Medium, "Open resolvers amplify DDoS"),
            Udp(123, "NTP", Severity.Medium, "monlist amplification"),
            Udp(161, "SNMP", Severity.High, "Default communities leak configuration"),
            Udp(1900, "SSDP", Severity.Medium, "UPnP amplification"),
            Udp(11211, "memcached", Severity.High, "Massive UDP amplification"),
        ];
    }
}
